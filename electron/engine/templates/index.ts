// Public face of the template module: parse and validate run templates, keep the template library, store a run's
// resolved template, and turn one into an agent launch.
export { TemplateError, parseTemplate, type Template, type TemplateOptions } from './schema.ts';
export { compatOf, providerCompat, providerCompatName, templateCompat, translates, translatesToChat } from './compat.ts';
export { ROUTES, canonicalModel, type ProviderConfig, type Route } from './provider-entry.ts';
export { providersOf } from './provider-list.ts';
export { loadTemplateFile, listTemplates, findOnPath, TEMPLATE_DIR } from './files.ts';
export { TemplateLibrary, kebab, libraryDirs } from './library.ts';
export { SCHEMA_FILE, templateJsonSchema, templateJsonSchemaText, withSchemaLine } from './json-schema.ts';
export { parseStoredTemplate, storedTemplateJson } from './stored.ts';
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
  hostModelId,
  providerSpec,
  type AgentPresetName,
  type ProviderPresetName,
} from './presets.ts';
export { MODELS, MODEL_TABLE_SOURCE, modelContextWindow, modelInfo, type ModelInfo } from './models.ts';
