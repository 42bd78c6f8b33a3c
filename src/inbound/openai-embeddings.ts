/** `POST /v1/embeddings`: OpenAI's Embeddings API, inbound. */
import { z } from 'zod';
import type { EmbeddingsRequest } from '../canonical.js';
import { toOpenAIErrorBody } from '../errors.js';
import type { InboundFormat, ParsedRequest } from './types.js';
import { parseBody } from './validation.js';

export const EmbeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(2048),
    z.array(z.number().int()).min(1),
    z.array(z.array(z.number().int()).min(1)).min(1).max(2048),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

export const openAIEmbeddings: InboundFormat = {
  name: 'openai-embeddings',
  endpoint: 'embeddings',
  parse(body): ParsedRequest {
    return { kind: 'embeddings', request: parseBody(EmbeddingsRequestSchema, body) as EmbeddingsRequest };
  },
  renderChat() {
    throw new Error('openai-embeddings renders no chat answers');
  },
  renderEmbeddings(result) {
    return JSON.stringify(result.response);
  },
  streamEncoder() {
    throw new Error('embeddings do not stream');
  },
  errorBody(err) {
    return JSON.stringify(toOpenAIErrorBody(err));
  },
};
