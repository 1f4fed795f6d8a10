// Redaction never touches structure: statuses, conclusions and the binding header survive a secret
// equal to them (or to a fragment of them), while free text holding the same value is still masked.
import { describe, expect, test } from '@jest/globals';
import { base64Forms, MASK, MIN_BASE64_LENGTH, Redactor, STRUCTURAL_FIELDS } from '../src/core/redact.js';
import { bindingHeader, makeReview, parseBindingHeader, readBindingHeader } from '../src/core/binding.js';
import { renderReport } from '../src/core/report/markdown.js';

const review = makeReview({
  site: 'shop',
  env: 'production',
  commit: 'b'.repeat(40),
  created_at: '2026-12-07T00:00:00.000Z',
  modules: {
    app: {
      digest: `sha256:${'1'.repeat(64)}`,
      shape_digest: `sha256:${'2'.repeat(64)}`,
      compare: 'values',
      mocked: false,
      sensitive: 'marker',
      unknown: [],
    },
  },
});

describe('structural fields', () => {
  test('a secret "succeeded" leaves statuses and conclusions intact, free text masked', () => {
    const r = new Redactor();
    r.add('succeeded');
    r.add('success');
    const doc = r.document(
      {
        status: 'succeeded',
        modules: [{ name: 'app', status: 'succeeded', reason: 'it succeeded' }],
        conclusion: 'success',
        inputs: { status: 'x succeeded' },
      },
      STRUCTURAL_FIELDS,
    );
    expect(doc).toEqual({
      status: 'succeeded',
      modules: [{ name: 'app', status: 'succeeded', reason: `it ${MASK}` }],
      conclusion: 'success',
      inputs: { status: `x ${MASK}` },
    });
  });

  test('a secret equal to a fragment of the binding header leaves the header readable, the fragment masked elsewhere', () => {
    const markdown = renderReport({
      marker: '<!-- site-deploy:shop:production -->',
      site: 'shop',
      environment: 'production',
      command: 'plan',
      status: 'succeeded',
      modules: [],
      binding: review,
    });
    const header = bindingHeader(review);
    const fragment = header.slice(40, 52);
    const r = new Redactor();
    r.add(fragment);
    r.add('production');
    r.keep(header);
    r.keep('<!-- site-deploy:shop:production -->');
    const out = r.text(`${markdown}\nfree ${fragment} text`);
    expect(readBindingHeader(out)).toEqual({ review });
    expect(parseBindingHeader(out)).toEqual(review);
    expect(out).toContain('<!-- site-deploy:shop:production -->');
    expect(out).toContain(`free ${MASK} text`);
  });
});

describe('the runner encodings', () => {
  const secret = 'S3CR3T-base64-value!';
  test.each([0, 1, 2])(
    'base64 of a secret %i bytes past an alignment, inside a longer base64 blob, is masked',
    (pad) => {
      const r = new Redactor();
      r.add(secret);
      const blob = Buffer.from(`${'x'.repeat(pad)}user:${secret}:more-bytes-after`).toString('base64');
      const out = r.text(blob);
      expect(out).toContain(MASK);
      // What is left decodes to no part of the secret longer than what one trimmed digit carries.
      expect(Buffer.from(out.replace(MASK, ''), 'base64').toString('latin1')).not.toContain(
        secret.slice(2, -2),
      );
    },
  );

  test('base64url, JSON-escaped and URI-escaped forms are masked', () => {
    const r = new Redactor();
    const s = 'pa"ss/wo?rd>>~~';
    r.add(s);
    expect(r.text(Buffer.from(`k=${s}`).toString('base64url'))).toContain(MASK);
    expect(r.text(JSON.stringify({ s }))).toBe(`{"s":"${MASK}"}`);
    expect(r.text(encodeURIComponent(s))).toBe(MASK);
  });

  test('a short secret does not shred ordinary text: no base64 form shorter than the minimum', () => {
    const r = new Redactor();
    r.add('abcd');
    for (const f of base64Forms('abcd')) expect(f.length).toBeGreaterThanOrEqual(MIN_BASE64_LENGTH);
    const text = 'Y2 Y2Q YmM plan failed succeeded sha256:0123abcd';
    expect(r.text(text)).toBe(`Y2 Y2Q YmM plan failed succeeded sha256:0123${MASK}`);
  });
});

describe('the risks of a failed plan', () => {
  test('a failed plan does not claim there are no risks', () => {
    const md = renderReport({
      marker: '<!-- site-deploy:shop:production -->',
      site: 'shop',
      environment: 'production',
      command: 'plan',
      status: 'failed',
      modules: [{ name: 'app', weight: 10, status: 'failed', error: 'boom' }],
    });
    expect(md).not.toContain('None: nothing is destroyed or replaced');
    expect(md).toContain('Unknown: the plan of app did not complete');
  });
});
