import { describe, expect, it } from 'vitest';
import { dynoType } from '../../src/heroku/dyno.ts';

describe('dynoType', () => {
  it.each([
    ['web.1', 'web'],
    ['worker.12', 'worker'],
    ['run.2660', 'run'],
    ['scheduler.1234', 'scheduler'],
    ['release.42', 'release'],
    ['urgent_worker.3', 'urgent_worker'],
    ['clock-2.1', 'clock-2'],
  ])('reads %s as a dyno of type %s', (name, type) => {
    expect(dynoType(name)).toBe(type);
  });

  it.each(['router', 'api', 'logplex', 'log-shuttle', 'slug-compiler', 'heroku-postgres', 'web', 'web.', '.1', 'web.1a', 'web.x', 'a b.1', 'd.9173ea1f-6f14', ''])(
    'reads %j as no dyno',
    (name) => {
      expect(dynoType(name)).toBeUndefined();
    },
  );
});
