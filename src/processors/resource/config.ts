/**
 * Config of the `resource` processor, with the Collector's keys (contrib's resourceprocessor): the
 * attribute actions on the resource of what passes.
 *
 * ```yaml
 * processors:
 *   resource:
 *     attributes:
 *       - { key: deployment.environment.name, value: production, action: upsert }
 *       - { key: cloud.region, value: us, action: insert }
 *       - { key: heroku.app.id, action: delete }
 * ```
 */
import { z } from 'zod';
import { actionSchema } from '../attributes/actions.ts';

export const RESOURCE_TYPE = 'resource';

export const resourceConfigSchema = z.strictObject({
  attributes: z.array(actionSchema).min(1, 'at least one action'),
});

export type ResourceConfig = z.output<typeof resourceConfigSchema>;
