// A sandboxed run at launch: its image found or built (sandbox/image.ts), then every distinct container its slots
// will run checked once (sandbox/checks.ts), each step said in the launch's progress.
import { checkSandbox } from '../sandbox/checks.ts';
import { type SandboxConfig, slotSandbox } from '../sandbox/command.ts';
import { resolveImage } from '../sandbox/image.ts';
import type { Template } from '../templates/index.ts';

/** Whether any slot of the template runs in a container. */
export const anySandboxed = (t: Template) => Array.from({ length: t.count }, (_, i) => slotSandbox(t, i + 1)).some(Boolean);

/** Whether any slot runs on the host (its agent must then be on this machine's PATH). */
export const anyOnHost = (t: Template) => Array.from({ length: t.count }, (_, i) => slotSandbox(t, i + 1)).some((c) => !c);

/**
 * The template with its sandbox's image resolved (named, built, or the repo's devcontainer.json) — what is stored, so a
 * resumed session runs the same image — after checking each distinct container of its slots can start here.
 */
export async function prepareRunSandboxes(
  template: Template,
  repo: string,
  agent: { command: string; path: string },
  say: (message: string) => void,
): Promise<Template> {
  let t = template;
  if (t.sandbox) {
    say(t.sandbox.image ? `checking the sandbox (${t.sandbox.image})` : 'finding the sandbox image');
    const r = await resolveImage(t.sandbox, repo, say);
    if (!t.sandbox.image) say(`sandbox image: ${r.from}`);
    t = { ...t, sandbox: { ...r.sandbox, ...(r.setup.length ? { setup: r.setup } : {}) } };
  }
  const seen = new Set<string>();
  for (let slot = 1; slot <= t.count; slot++) {
    const cfg = slotSandbox(t, slot);
    if (!cfg?.image) continue;
    const key = JSON.stringify([cfg.engine, cfg.image, cfg.runtime, cfg.ulimits, cfg.mounts]);
    if (seen.has(key)) continue;
    seen.add(key);
    if (seen.size > 1) say(`checking the sandbox (${cfg.image})`);
    await checkSandbox(cfg as SandboxConfig, agent);
  }
  return t;
}
