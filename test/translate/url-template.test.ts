/**
 * Route templates (src/translate/url-template.ts): what each kind of varying segment becomes,
 * learning per table, user patterns first, the bounds whatever the input, and hostile paths.
 */
import { describe, expect, it } from 'vitest';
import { urlTemplatesSchema } from '../../src/config/translation.ts';
import { MAX_SEGMENTS, NODES_PER_TEMPLATE, OVERFLOW_TEMPLATE, UrlTemplateTable } from '../../src/translate/url-template.ts';

const shapes: Array<[string, string]> = [
  ['/', '/'],
  ['/search', '/search'],
  ['/products/42', '/products/{id}'],
  ['/api/v1/orders/550e8400-E29B-41d4-a716-446655440000', '/api/v1/orders/{uuid}'],
  ['/commits/9f2c1e0a7b3d', '/commits/{hex}'],
  ['/assets/application-3f2a1b9c8d.css', '/assets/application-{hex}.css'],
  ['/packs/js/main.a1b2c3d4e5f6.js', '/packs/js/main.{hex}.js'],
  ['/blog/2024-05-01-spring-sale', '/blog/{id}-{id}-{id}-spring-sale'],
  ['/reset/aGVsbG8gd29ybGQ9PT0xMjM', '/reset/{token}'],
  ['/invite/Xk3_9aZ-qL0pR7tY2wB4', '/invite/{token}'],
  [`/files/${'x'.repeat(65)}`, '/files/{token}'],
  ['/api/v2/users', '/api/v2/users'],
  ['/users/sign_in', '/users/sign_in'],
  ['/favicon.ico', '/favicon.ico'],
  ['/users/', '/users/'],
  ['//double//slash', '//double//slash'],
  ['/a/../../etc/passwd', '/a/../../etc/passwd'],
  ['/caf%C3%A9/menu', '/caf%C3%A9/menu'],
  ['/q/%2F%2E%2E', '/q/%2F%2E%2E'],
  ['*', '*'],
];

describe('url templates: segment shapes', () => {
  for (const [path, template] of shapes) {
    it(`${path.slice(0, 60)} -> ${template}`, () => {
      expect(new UrlTemplateTable().templateOf(path)).toBe(template);
    });
  }

  it('gives no template to what is no absolute path', () => {
    expect(new UrlTemplateTable().templateOf('')).toBeUndefined();
    expect(new UrlTemplateTable().templateOf('users/1')).toBeUndefined();
  });
});

describe('url templates: learning per table', () => {
  it('turns a position variable once it has seen more than max_segment_values values, keeping those seen before', () => {
    const table = new UrlTemplateTable({ maxSegmentValues: 3 });
    expect(['alice', 'bob', 'carol'].map((u) => table.templateOf(`/u/${u}/posts`))).toEqual(['/u/alice/posts', '/u/bob/posts', '/u/carol/posts']);
    expect(table.templateOf('/u/dave/posts')).toBe('/u/{var}/posts');
    expect(table.templateOf('/u/erin/posts')).toBe('/u/{var}/posts');
    expect(table.templateOf('/u/bob/posts')).toBe('/u/bob/posts');
    // Another parent counts its own values.
    expect(table.templateOf('/teams/dave')).toBe('/teams/dave');
  });

  it('learns per table: one drain\'s usernames do not make another drain\'s routes variable', () => {
    const a = new UrlTemplateTable({ maxSegmentValues: 2 });
    const b = new UrlTemplateTable({ maxSegmentValues: 2 });
    for (const u of ['x', 'y', 'z']) a.templateOf(`/${u}`);
    expect(a.templateOf('/pricing')).toBe('/{var}');
    expect(b.templateOf('/pricing')).toBe('/pricing');
  });

  it('tries user patterns first, whole path against whole pattern', () => {
    const table = new UrlTemplateTable({ patterns: ['/users/{id}/orders/{order_id}', '/{handle}'] });
    expect(table.templateOf('/users/alice/orders/ord_7Hk2')).toBe('/users/{id}/orders/{order_id}');
    // Longer or shorter than every pattern: templated by shape and learning.
    expect(table.templateOf('/users/alice/orders')).toBe('/users/alice/orders');
    expect(table.templateOf('/users/alice/orders/1/items')).toBe('/users/alice/orders/{id}/items');
    expect(table.templateOf('/bob')).toBe('/{handle}');
    expect(table.templateOf('/')).toBe('/');
  });

  it('refuses a malformed pattern naming the key', () => {
    const result = urlTemplatesSchema.safeParse({ patterns: ['/ok/{id}', 'users/{id}', '/a/b{id}', '/x?y={id}'], max_templates: 0 });
    expect(result.success).toBe(false);
    const problems = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(problems).toEqual([
      'patterns.1: a pattern is a path: it starts with /',
      'patterns.2: a {name} placeholder is a whole segment: "b{id}"',
      'patterns.3: a pattern is a path without query or fragment',
      'max_templates: Too small: expected number to be >=1',
    ]);
  });
});

describe('url templates: bounded whatever the input', () => {
  it('never learns more than max_templates, gives the rest /{overflow} and counts them', () => {
    const table = new UrlTemplateTable({ maxTemplates: 10, maxSegmentValues: 1000 });
    const seen = new Set<string>();
    for (let i = 0; i < 500; i++) seen.add(table.templateOf(`/w${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`)!);
    expect(table.templates).toBe(10);
    expect(seen.size).toBe(11);
    expect(seen.has(OVERFLOW_TEMPLATE)).toBe(true);
    expect(table.overflows).toBe(490);
    expect(table.nodes).toBeLessThanOrEqual(10 * NODES_PER_TEMPLATE);
  });

  it('holds its nodes under the bound when paths are deep and distinct', () => {
    const table = new UrlTemplateTable({ maxTemplates: 50, maxSegmentValues: 1000 });
    for (let i = 0; i < 5000; i++) table.templateOf(`/a${i % 7}/b${i % 11}/c${i % 13}/d${i}`.replace(/\d/g, (d) => 'klmnopqrst'[Number(d)]!));
    expect(table.nodes).toBeLessThanOrEqual(50 * NODES_PER_TEMPLATE);
    expect(table.templates).toBeLessThanOrEqual(50);
  });

  it('reads 16 segments of a path of 10,000, the rest being {rest}', () => {
    const table = new UrlTemplateTable();
    const path = '/seg'.repeat(10_000);
    expect(table.templateOf(path)).toBe(`${'/seg'.repeat(MAX_SEGMENTS)}/{rest}`);
    expect(table.templateOf(`${path}/other`)).toBe(`${'/seg'.repeat(MAX_SEGMENTS)}/{rest}`);
    expect(table.templates).toBe(1);
  });

  it('takes a 1 MB path as one token, and a 1 MB path of slashes as empty segments', () => {
    const table = new UrlTemplateTable();
    expect(table.templateOf(`/${'a'.repeat(1 << 20)}`)).toBe('/{token}');
    expect(table.templateOf('/'.repeat(1 << 20))).toBe(`${'/'.repeat(MAX_SEGMENTS)}/{rest}`);
  });

  it('gives a path the same template every time, however much the table learns after it', () => {
    const table = new UrlTemplateTable({ maxTemplates: 40, maxSegmentValues: 4 });
    const words = ['ab', 'cd', 'ef', 'gh', 'ij', 'kl', 'mn', 'op'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const paths = Array.from({ length: 3000 }, () => `/${words[next() % 8]}/${words[next() % 8]}/${words[next() % 8]}${next() % 3 === 0 ? `/${next()}` : ''}`);
    const first = new Map<string, string>();
    for (const p of paths) {
      const t = table.templateOf(p)!;
      if (!first.has(p)) first.set(p, t);
      expect(t).toBe(first.get(p));
    }
    expect(new Set(first.values()).size).toBeLessThanOrEqual(41);
  });

  it('keeps percent-encoded segments as written, and learns them like any literal', () => {
    const table = new UrlTemplateTable({ maxSegmentValues: 2 });
    expect(table.templateOf('/tags/caf%C3%A9')).toBe('/tags/caf%C3%A9');
    expect(table.templateOf('/tags/na%C3%AFve')).toBe('/tags/na%C3%AFve');
    expect(table.templateOf('/tags/%E2%9C%93')).toBe('/tags/{var}');
  });
});
