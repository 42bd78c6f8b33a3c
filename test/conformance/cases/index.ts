/** Every provider the conformance suite runs against. Add a provider's case here. */
import type { ProviderCase } from '../provider-case.js';
import { anthropicCase } from './anthropic.js';
import { geminiCase } from './gemini.js';
import { azureCase, openAICase, openAICompatibleCase } from './openai.js';

export const PROVIDER_CASES: ProviderCase[] = [openAICase, azureCase, openAICompatibleCase, anthropicCase, geminiCase];
