// Security and hosting invariants of the compiled template (bicep build output), checked by scripts/checks/bicep.
// Usage: node check-template.js main.json. Prints each broken invariant and exits 1.
'use strict';
const template = require(require('path').resolve(process.argv[2]));

function resources(tpl, out = []) {
  const list = Array.isArray(tpl.resources) ? tpl.resources : Object.values(tpl.resources || {});
  for (const r of list) {
    out.push(r);
    if (r.type === 'Microsoft.Resources/deployments' && r.properties.template) resources(r.properties.template, out);
  }
  return out;
}

const all = resources(template);
const problems = [];
const one = (type) => {
  const found = all.filter((r) => r.type === type);
  if (found.length !== 1) problems.push(`expected one ${type}, found ${found.length}`);
  return found[0] || { properties: {} };
};
const expect = (ok, message) => { if (!ok) problems.push(message); };

const storage = one('Microsoft.Storage/storageAccounts');
expect(storage.properties.allowSharedKeyAccess === false, 'storage: allowSharedKeyAccess must be false');
expect(storage.properties.allowBlobPublicAccess === false, 'storage: allowBlobPublicAccess must be false');

const cosmos = one('Microsoft.DocumentDB/databaseAccounts');
expect(cosmos.properties.disableLocalAuth === true, 'cosmos: disableLocalAuth must be true');
expect(JSON.stringify(cosmos.properties.capabilities || '').includes('EnableTable'), 'cosmos: the EnableTable capability is missing');
expect(all.some((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/tableRoleAssignments'), 'cosmos: no Table data-plane role assignment');

const insights = one('Microsoft.Insights/components');
expect(insights.properties.DisableLocalAuth === true, 'application insights: DisableLocalAuth must be true');
const workspace = one('Microsoft.OperationalInsights/workspaces');
expect(workspace.properties.features && workspace.properties.features.disableLocalAuth === true, 'log analytics: features.disableLocalAuth must be true');

const vault = one('Microsoft.KeyVault/vaults');
expect(vault.properties.enableRbacAuthorization === true, 'key vault: enableRbacAuthorization must be true');

const plan = one('Microsoft.Web/serverfarms');
expect(plan.sku && plan.sku.tier === 'FlexConsumption' && plan.sku.name === 'FC1', 'plan: must be Flex Consumption FC1');
const site = one('Microsoft.Web/sites');
const config = site.properties.functionAppConfig || {};
expect(site.identity && site.identity.type === 'UserAssigned', 'function app: identity must be user-assigned');
expect(!!site.properties.keyVaultReferenceIdentity, 'function app: keyVaultReferenceIdentity must be the user-assigned identity');
expect(site.properties.httpsOnly === true, 'function app: httpsOnly must be true');
expect(config.runtime && config.runtime.name, 'function app: functionAppConfig.runtime is missing');
expect(config.deployment && config.deployment.storage && config.deployment.storage.authentication
  && config.deployment.storage.authentication.type === 'UserAssignedIdentity', 'function app: the deployment container must be read with the user-assigned identity');
const scale = config.scaleAndConcurrency || {};
for (const key of ['maximumInstanceCount', 'alwaysReady']) {
  expect(typeof scale[key] === 'string' && scale[key].includes('parameters('), `function app: scaleAndConcurrency.${key} must come from a parameter`);
}

// The identity's data roles (GUIDs of the built-in roles, wherever the template spells them).
const text = JSON.stringify(template);
for (const [role, id] of Object.entries({
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Cosmos DB Built-in Data Contributor': '00000000-0000-0000-0000-000000000002',
})) expect(text.includes(id), `role assignments: ${role} (${id}) is not granted`);

if (problems.length) {
  for (const p of problems) console.error(`template: ${p}`);
  process.exit(1);
}
// Silent on success: scripts/checks/bicep treats any output as a diagnostic.
