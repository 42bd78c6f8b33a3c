/**
 * What a model can take — context window, tools, image inputs — for the `cost` strategy,
 * from `data/model-capabilities.json` with per-target overrides from config; and what a
 * request needs. A model missing from the data is assumed capable with no known window.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatRequest } from '../canonical.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { SNAPSHOT_SUFFIX } from '../pricing/price-table.js';

export interface ModelCapabilities {
  /** Input plus output tokens the model accepts; null when unknown (no limit applied). */
  contextWindow: number | null;
  tools: boolean;
  vision: boolean;
}

interface CapabilityEntry {
  context_window?: number;
  tools?: boolean;
  vision?: boolean;
}

const CAPABILITIES_FILE = join(PACKAGE_ROOT, 'data', 'model-capabilities.json');
let builtin: Map<string, CapabilityEntry> | undefined;

function table(): Map<string, CapabilityEntry> {
  if (!builtin) {
    const doc = JSON.parse(readFileSync(CAPABILITIES_FILE, 'utf8')) as { models: Record<string, CapabilityEntry> };
    builtin = new Map(Object.entries(doc.models));
  }
  return builtin;
}

/**
 * The capabilities of `model` (as sent upstream; dated snapshots fall back to their family),
 * with the target's own `context_window`/`tools`/`vision` winning.
 *
 * @example
 * capabilitiesOf('gpt-4o-2024-08-06').contextWindow; // → 128000
 */
export function capabilitiesOf(model: string, override: CapabilityEntry = {}): ModelCapabilities {
  const models = table();
  let name = model.includes('/') && !models.has(model) ? model.slice(model.lastIndexOf('/') + 1) : model;
  let entry = models.get(name);
  while (!entry) {
    const shorter = name.replace(SNAPSHOT_SUFFIX, '');
    if (shorter === name) break;
    name = shorter;
    entry = models.get(name);
  }
  return {
    contextWindow: override.context_window ?? entry?.context_window ?? null,
    tools: override.tools ?? entry?.tools ?? true,
    vision: override.vision ?? entry?.vision ?? true,
  };
}

export interface RequestNeeds {
  inputTokens: number;
  /** The output the caller reserved explicitly (max_tokens), counted against the window. */
  reservedOutputTokens: number;
  tools: boolean;
  vision: boolean;
}

/** What a chat request needs from a model: tools when it offers tools or carries tool turns, vision when it carries an image. */
export function requestNeeds(req: ChatRequest, inputTokens: number): RequestNeeds {
  let tools = (req.tools?.length ?? 0) > 0;
  let vision = false;
  for (const m of req.messages) {
    if (m.role === 'tool' || m.tool_calls?.length) tools = true;
    if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'image_url') vision = true;
  }
  return { inputTokens, reservedOutputTokens: req.max_completion_tokens ?? req.max_tokens ?? 0, tools, vision };
}

/** Why a model cannot serve a request, or null when it can. */
export function unmetNeed(caps: ModelCapabilities, needs: RequestNeeds): string | null {
  if (needs.tools && !caps.tools) return 'no tool support';
  if (needs.vision && !caps.vision) return 'no image input';
  if (caps.contextWindow !== null && needs.inputTokens + needs.reservedOutputTokens > caps.contextWindow) {
    return `context window ${caps.contextWindow} < ${needs.inputTokens} input + ${needs.reservedOutputTokens} output tokens`;
  }
  return null;
}
