import { describe, expect, it } from 'vitest';
import { classifyUpstreamError, createResponseParser, type ApiStyle } from '../../electron/engine/meter/usage/index.ts';

type Case = [kind: string, status: number, type: string | null, message: string];
const CASES: Case[] = [
  [
    'rate_limited',
    429,
    'rate_limit_reached_error',
    'Your account org-1 request reached organization max RPM: 3, please try again after 1 seconds',
  ],
  ['rate_limited', 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'],
  ['rate_limited', 429, null, 'Too Many Requests'],
  ['overloaded', 429, 'engine_overloaded_error', 'The engine is currently overloaded, please try again later'],
  ['overloaded', 529, 'overloaded_error', 'Overloaded'],
  ['overloaded', 529, null, ''],
  ['overloaded', 200, 'overloaded_error', 'Overloaded'], // mid-stream SSE error event
  ['out_of_balance', 429, 'exceeded_current_quota_error', 'Your account is suspended due to insufficient balance, please recharge'],
  ['out_of_balance', 403, 'exceeded_current_quota_error', 'You exceeded your current quota'],
  ['out_of_balance', 403, 'permission_denied_error', 'Insufficient balance: please check your plan and billing details'],
  ['out_of_balance', 402, null, 'Payment required'],
  ['bad_key', 401, 'invalid_authentication_error', 'Invalid Authentication'],
  ['bad_key', 401, 'authentication_error', 'invalid x-api-key'],
  ['bad_key', 400, 'invalid_api_key', 'Incorrect API key provided'],
  ['unknown_model', 404, 'resource_not_found_error', 'Not found the model kimi-k2-0711-preview or Permission denied'],
  ['unknown_model', 404, 'not_found_error', 'model: kimi-k9'],
  ['unknown_model', 400, 'invalid_request_error', 'Model not found: kimi-k9'],
  ['context_overflow', 400, 'invalid_request_error', 'Your request exceeded model token limit: 262144 (requested: 270000)'],
  ['context_overflow', 400, 'invalid_request_error', 'prompt is too long: 270000 tokens > 262144 maximum'],
  ['context_overflow', 400, 'invalid_request_error', "This model's maximum context length is 131072 tokens"],
  ['context_overflow', 400, null, 'Too many tokens in the request'],
  ['other', 400, 'invalid_request_error', 'messages: Unexpected role "system"'],
  ['other', 403, 'permission_denied_error', 'Access to this resource is denied'],
  ['other', 404, 'not_found_error', 'Not found: POST /v1/foo'],
  ['other', 500, 'api_error', 'Internal server error'],
];

describe('classifyUpstreamError', () => {
  it.each(CASES)('%s ← %i %s "%s"', (kind, status, type, message) => {
    expect(classifyUpstreamError(status, type, message)).toBe(kind);
  });
});

function parse(style: ApiStyle, status: number, body: string, contentType = 'application/json') {
  const p = createResponseParser(style, { status, contentType });
  p.push(Buffer.from(body));
  return p.end();
}

describe('error envelopes through the parser, every classify case', () => {
  for (const [kind, status, type, message] of CASES.filter((c) => c[1] >= 400)) {
    it(`${kind}: Anthropic {"type":"error","error":{…}} and OpenAI {"error":{…}} shapes (${status} ${type})`, () => {
      const anth = parse('anthropic', status, JSON.stringify({ type: 'error', error: { type, message } }));
      const oai = parse('openai', status, JSON.stringify({ error: { message, type, code: null } }));
      const resp = parse('responses', status, JSON.stringify({ error: { message, type, param: null, code: null } }));
      for (const r of [anth, oai, resp]) {
        expect(r.error).toEqual({ status, type, message });
        expect(classifyUpstreamError(r.error!.status, r.error!.type, r.error!.message)).toBe(kind);
      }
    });
  }

  it('OpenAI code-only envelope and a string error', () => {
    expect(parse('openai', 429, JSON.stringify({ error: { message: 'quota', code: 'insufficient_quota' } })).error).toEqual({
      status: 429,
      type: 'insufficient_quota',
      message: 'quota',
    });
    expect(parse('openai', 500, JSON.stringify({ error: 'upstream exploded' })).error).toEqual({
      status: 500,
      type: null,
      message: 'upstream exploded',
    });
  });

  it('an error body under an event-stream content type is still read as JSON', () => {
    const r = parse(
      'anthropic',
      429,
      JSON.stringify({ type: 'error', error: { type: 'rate_limit_reached_error', message: 'slow down' } }),
      'text/event-stream',
    );
    expect(r.error).toEqual({ status: 429, type: 'rate_limit_reached_error', message: 'slow down' });
  });
});
