/** Config pieces the filter and transform processors share: OTTL compiled at config time, errors with their column. */
import { z } from 'zod';
import { compileCondition, compileStatement, type OttlContext, type Target } from './ottl.ts';

export const errorModeSchema = z.enum(['ignore', 'silent', 'propagate']).default('propagate');

export interface CompiledCondition {
  source: string;
  test: (t: Target) => boolean;
}

export interface CompiledStatement {
  source: string;
  run: (t: Target) => void;
}

export function conditionSchema(context: OttlContext) {
  return z.string().transform((source, ctx): CompiledCondition => {
    try {
      return { source, test: compileCondition(source, context) };
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not a condition this OTTL subset reads: ${(error as Error).message} (see the README's OTTL section)` });
      return z.NEVER;
    }
  });
}

export function statementSchema(context: OttlContext) {
  return z.string().transform((source, ctx): CompiledStatement => {
    try {
      return { source, run: compileStatement(source, context) };
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not a statement this OTTL subset runs: ${(error as Error).message} (see the README's OTTL section)` });
      return z.NEVER;
    }
  });
}

/** A key the Collector has that this build refuses, with why. */
export function refused(why: string) {
  return z.unknown().refine(() => false, why).optional();
}
