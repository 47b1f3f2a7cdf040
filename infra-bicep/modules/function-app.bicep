// The Function App on a Flex Consumption plan running the custom handler (host.json: customHandler,
// defaultExecutablePath Campaigns.Functions, a self-contained linux-x64 build). The package is pulled from a
// blob container with the user-assigned identity; app settings are identity-based.
param name string
param location string
param tags object
param identityId string
param deploymentContainerUrl string
@description('Flex Consumption runtime stack. Check `az functionapp list-flexconsumption-runtimes --location <region> --runtime custom`.')
param runtimeName string
param runtimeVersion string
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int
@allowed([512, 2048, 4096])
param instanceMemoryMB int
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int
param alwaysReady alwaysReadyInstance[]
param appSettings object
param corsAllowedOrigins string[]

@export()
@description('Always-ready instances: name is "http" (all HTTP functions), "blob" or "function:<FunctionName>".')
type alwaysReadyInstance = {
  name: string
  @minValue(0)
  instanceCount: int
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${name}-plan'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      cors: { allowedOrigins: corsAllowedOrigins, supportCredentials: false }
      appSettings: [for s in items(appSettings): { name: s.key, value: s.value }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      runtime: { name: runtimeName, version: runtimeVersion }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReady
        triggers: { http: { perInstanceConcurrency: httpPerInstanceConcurrency } }
      }
    }
  }
}

output name string = site.name
output hostName string = site.properties.defaultHostName
