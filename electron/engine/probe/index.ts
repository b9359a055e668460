// `flotilla probe`: checks a real provider against Claude Code's request shapes, with and without the compatibility
// rules. The public face of the probe folder.
export { runProbe, type ProbeReport, type ProbeTarget, type ShapeReport } from './probe.ts';
export { probeShapes, type ProbeShape } from './shapes.ts';
export { CLAUDE_CODE_VERSION } from './claude-code-shape.ts';
export { resolveProbeTarget, type ProbeTargetChoice, type ProbeTargetOptions } from './target.ts';
export { probeProviders, providersTable, type ProviderProbe, type ProvidersReport } from './providers.ts';
export { timedRequest, type TimedResult, type TimedTarget } from './timed.ts';
