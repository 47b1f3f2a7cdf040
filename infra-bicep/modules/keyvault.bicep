// Key Vault (Azure RBAC) for the app's secrets: the tally-signing key, webhook secrets, the draw
// pseudonymisation key and the JWT settings. App settings reference them with @Microsoft.KeyVault(...);
// rotate by adding a new version (docs/operations.md).
param name string
param location string
param tags object
@description('The app\'s managed identity: reads secrets.')
param principalId string
@description('Optional operator or pipeline principal allowed to set secrets (Key Vault Secrets Officer). Empty: none.')
param operatorPrincipalId string
@description('Settings kept in the vault whose values come from parameters (the JWT authority and audience): name → value.')
param storedValues object

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for s in items(storedValues): {
    parent: vault
    name: s.key
    properties: { value: s.value }
  }
]

var secretsUserRole = '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User
var secretsOfficerRole = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer

resource appReads 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, secretsUserRole)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRole)
  }
}

resource operatorWrites 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(vault.id, operatorPrincipalId, secretsOfficerRole)
  scope: vault
  properties: {
    principalId: operatorPrincipalId
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficerRole)
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
