// Public face of the template module: parse and validate run templates, and turn one into an agent launch.
export { TemplateError, parseTemplate, type Template, type TemplateOptions } from './schema.ts';
export { loadTemplateFile, listTemplates, findOnPath, TEMPLATE_DIR } from './files.ts';
export {
  buildAgentLaunch,
  renderPlaceholders,
  slotTask,
  type AgentLaunch,
  type SessionContext,
} from './launch.ts';
export {
  AGENT_PRESETS,
  PROVIDER_PRESETS,
  DEFAULT_MODEL,
  agentPresetInfo,
  type AgentPresetName,
  type ApiStyle,
  type ProviderPresetName,
} from './presets.ts';
export { MODELS, MODEL_TABLE_SOURCE, modelContextWindow, modelInfo, type ModelInfo } from './models.ts';
