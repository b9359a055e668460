// The user's setup as the engine sees it: settings.json, provider keys, the provider's balance, and the private-file
// writer they share. The public face of the settings folder.
export { EngineSettings, type ProviderRef } from './settings.ts';
export { SettingsError, loadSettings, parseSettings, saveSettings, settingsPath } from './settings-file.ts';
export { ProviderKeys } from './keys.ts';
export { fetchBalance } from './balance.ts';
export { describeModel, fetchModels, shippedModels } from './models.ts';
export { writePrivateFile } from './private-file.ts';
