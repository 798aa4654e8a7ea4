/**
 * runts' cgroup manager: the API the container lifecycle (run, create, update,
 * events, pause, delete) uses. See manager.ts for the semantics.
 */
export type {
  CgroupConfig,
  CgroupManager,
  CgroupMode,
  CgroupStats,
  FreezerState,
  SavedCgroup,
} from "./types.ts";
export { detectCgroupHost, detectCgroupMode } from "./detect.ts";
export { createCgroupManager, openCgroupManager } from "./manager.ts";
export {
  defaultAllowedDeviceRules,
  deviceRulesForLinuxDevices,
  effectiveDeviceRules,
} from "./devices.ts";
export { statsToJSON } from "./stats.ts";
export { UnsupportedResourcesError } from "./plan.ts";
export { validateResources } from "./validate.ts";
