// Campaigns on Azure: Function App (Flex Consumption, custom handler) + user-assigned identity + Storage
// (no shared keys) + Cosmos DB for Table + Key Vault + Log Analytics/Application Insights (no local auth).
// Deploy: az deployment group create -g <rg> -f infra-bicep/main.bicep -p infra-bicep/env/<env>.bicepparam
// (docs/operations.md). Local modules only.
targetScope = 'resourceGroup'

@description('Environment name, part of every resource name.')
@allowed(['dev', 'test', 'prod'])
param environmentName string

@description('Short prefix for resource names.')
@minLength(3)
@maxLength(12)
param namePrefix string = 'campaigns'

param location string = resourceGroup().location

@description('Microsite origins allowed to call the API and to upload blobs directly (e.g. https://spread.example.com).')
param corsAllowedOrigins string[]

@description('Upper bound of Flex Consumption instances (cost and downstream protection).')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready (pre-warmed, billed) instances per group: "http" (the Api function), or "function:<Name>" for a queue trigger.')
param alwaysReady alwaysReadyInstance[] = []

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Concurrent HTTP requests per instance (Flex default at 2 GB: 16).')
@minValue(1)
@maxValue(1000)
param httpPerInstanceConcurrency int = 16

@description('Flex Consumption runtime stack for the custom handler.')
param runtimeName string = 'custom'
param runtimeVersion string = '1.0'

@description('Cosmos DB for Table capacity: serverless (pay per RU, bursty/small) or autoscale (provisioned, per table).')
@allowed(['serverless', 'autoscale'])
param cosmosCapacityMode string = 'serverless'

@description('Autoscale only: maximum RU/s per table.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 4000

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('OIDC authority of the tokens the API accepts (Entra ID / Entra External ID), stored in Key Vault.')
param authAuthority string

@description('Audience (application ID URI or client id) of the API registration, stored in Key Vault.')
param authAudience string

@description('Optional OIDC authority for staff tokens (workforce Entra ID) when fans sign in through Entra External ID; empty for one provider.')
param staffAuthority string = ''

@description('Audience of staff tokens; empty means the same as authAudience.')
param staffAudience string = ''

@description('The iss claim of staff tokens when it differs from staffAuthority.')
param staffIssuer string = ''

@description('Public base URL serving the submission-media container (derivatives of approved entries), e.g. an Azure Front Door endpoint with a private origin; the account itself allows no anonymous reads.')
param mediaBaseUrl string = ''

@description('Days a photo\'s original is kept (private) after its derivatives are made; 0 deletes it at once. A storage lifecycle rule enforces the period.')
@minValue(0)
@maxValue(365)
param keepPhotoOriginalsDays int = 0

@description('Days a refused vote keeps the client\'s IP key (fraud evidence) before the retention timer removes it.')
@minValue(1)
@maxValue(365)
param refusalIpDays int = 30

@description('Days after a campaign ends that its fans\' data is kept before it is erased.')
@minValue(1)
@maxValue(3650)
param fanDataDaysAfterEnd int = 180

@description('Days print images and manifests (fan ids, label texts) are kept in label-print; a storage lifecycle rule deletes them.')
@minValue(1)
@maxValue(3650)
param labelPrintDays int = 90

@description('Comma-separated brand-protected terms that send fan text to review.')
param brandTerms string = ''

@description('Turnstile/hCaptcha/reCAPTCHA-compatible siteverify URL for vote CAPTCHA checks.')
param captchaSiteverifyUrl string = 'https://challenges.cloudflare.com/turnstile/v0/siteverify'

@description('Seed the demo campaign at start (dev only).')
param seedDemo bool = false

@description('Token subject (sub) of the first owner of the default workspace, which campaigns created before workspaces move into. Empty: an operator adds one.')
param defaultWorkspaceOwner string = ''

@description('Optional object id of the operator or pipeline allowed to set Key Vault secrets.')
param operatorPrincipalId string = ''

type alwaysReadyInstance = {
  name: string
  @minValue(0)
  instanceCount: int
}

// Tables, queues and containers the app uses: the output of `Campaigns.Functions list-resources`
// (tests/Campaigns.Tests/Deploy checks that it is complete).
var storageResources = loadJsonContent('storage-resources.json')
var deploymentContainerName = 'app-package'

var suffix = uniqueString(resourceGroup().id, namePrefix, environmentName)
var baseName = toLower('${namePrefix}-${environmentName}')
var tags = { app: 'campaigns', environment: environmentName }
var keyVaultName = toLower('kv${take(suffix, 8)}${take(environmentName, 4)}${take(namePrefix, 8)}')

func keyVaultRef(vaultName string, secretName string) string =>
  '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${baseName}-id'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    namePrefix: baseName
    location: location
    tags: tags
    retentionInDays: logRetentionDays
    publisherPrincipalId: identity.properties.principalId
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${suffix}'
    location: location
    tags: tags
    skuName: storageSku
    queues: storageResources.queues
    containers: storageResources.containers
    deploymentContainerName: deploymentContainerName
    corsAllowedOrigins: corsAllowedOrigins
    principalId: identity.properties.principalId
    keepPhotoOriginalsDays: keepPhotoOriginalsDays
    labelPrintDays: labelPrintDays
  }
}

module cosmos 'modules/cosmos-table.bicep' = {
  name: 'cosmos'
  params: {
    name: '${baseName}-${suffix}'
    location: location
    tags: tags
    tables: storageResources.tables
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    principalId: identity.properties.principalId
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: keyVaultName
    location: location
    tags: tags
    principalId: identity.properties.principalId
    operatorPrincipalId: operatorPrincipalId
    storedValues: {
      'auth-authority': authAuthority
      'auth-audience': authAudience
    }
  }
}

// App settings: ONE FOR ONE with local.settings.sample.json's Values (a test compares the names). Settings
// that exist only locally are listed, with the reason, in local-only-settings.json. Secrets are Key Vault
// references resolved with the user-assigned identity; the secret itself is set by the operator
// (docs/operations.md), e.g. `Voting__TallySigningKey: keyVaultRef(keyVaultName, 'tally-signing-key')`.
var appSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  AzureWebJobsStorage__blobServiceUri: storage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: storage.outputs.queueEndpoint
  Tables__ServiceUri: cosmos.outputs.tableEndpoint
  Storage__CreateResources: 'false'
  Auth__Authority: keyVaultRef(keyVaultName, 'auth-authority')
  Auth__Audience: keyVaultRef(keyVaultName, 'auth-audience')
  Auth__RoleClaim: 'roles'
  Auth__StaffAuthority: staffAuthority
  Auth__StaffAudience: staffAudience
  Auth__StaffIssuer: staffIssuer
  Moderation__ClaimLeaseSeconds: '600'
  Moderation__MaxClaimBatch: '50'
  Moderation__ReportHideThreshold: '3'
  Moderation__AutoApprove: 'false'
  Moderation__AutoRejectHardBlocks: 'true'
  Moderation__HardBlockFlags: 'blocklist'
  Moderation__SlaTargetHours: '24'
  Moderation__ApplyQueue: 'moderation-apply'
  Moderation__ApplyCheckSeconds: '60'
  Winners__PseudonymKey: keyVaultRef(keyVaultName, 'winners-pseudonym-key')
  Winners__ClaimDays: '14'
  Winners__NotifyQueue: 'winners-notify'
  Episodes__WebhookRotationOverlapHours: '24'
  Webhooks__AllowHttpLoopback: 'false'
  Webhooks__TimeoutSeconds: '10'
  Episodes__WebhookQueue: 'episode-webhooks'
  Episodes__WebhookMaxAttempts: '8'
  Episodes__WebhookRetryBaseSeconds: '30'
  Episodes__DueTable: 'episodedue'
  Episodes__InitialLookbackHours: '24'
  Episodes__ViewsPerMinute: '120'
  Episodes__ReactionsPerMinute: '30'
  MALLOC_ARENA_MAX: '2'
  Submissions__MaxPhotoBytes: '20971520'
  Submissions__MaxVideoBytes: '524288000'
  Submissions__UploadSlotMinutes: '15'
  Submissions__MaxImagePixels: '50000000'
  Submissions__MaxImageSide: '16384'
  Submissions__ImageConcurrency: '2'
  Submissions__StoryMaxChars: '5000'
  Submissions__CaptionMaxChars: '500'
  Submissions__TitleMaxChars: '120'
  Submissions__LabelMaxChars: '40'
  Submissions__UploadCorsOrigins: join(corsAllowedOrigins, ',')
  Submissions__MediaBaseUrl: mediaBaseUrl
  Submissions__BrandTerms: brandTerms
  Submissions__PrintBatchSchedule: '0 0 2 * * *'
  Submissions__PrintBatchSize: '500'
  Submissions__PreviewsPerMinute: '30'
  Submissions__ReviewRetryDelaySeconds: '30'
  Submissions__ImagesQueue: 'submission-images'
  Submissions__MaxEntriesPerFan: '20'
  Submissions__KeepPhotoOriginalsDays: string(keepPhotoOriginalsDays)
  Privacy__RefusalIpDays: string(refusalIpDays)
  Privacy__FanDataDaysAfterEnd: string(fanDataDaysAfterEnd)
  DataRights__ErasureQueue: 'data-erasure'
  DataRights__PrizeKeepDays: '1095'
  DataRights__FraudKeepDays: '365'
  Voting__Queue: 'votes'
  Voting__CounterShards: '64'
  Voting__CounterConcurrency: '4'
  Voting__FlushConcurrency: '1'
  Voting__FlushLingerMs: '20'
  Voting__PerFanPerMinute: '10'
  Voting__PerIpPerMinute: '600'
  Voting__CaptchaProvider: 'siteverify'
  Voting__CaptchaSiteverifyUrl: captchaSiteverifyUrl
  Voting__CaptchaSecret: keyVaultRef(keyVaultName, 'captcha-secret')
  Voting__RevealSigningKey: keyVaultRef(keyVaultName, 'tally-signing-key')
  Telemetry__Exporter: 'azuremonitor'
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  Hosting__Standalone: 'false'
  ClientAddress__TrustedProxies: ''
  ClientAddress__Header: 'X-Forwarded-For'
  Workspaces__DefaultWorkspace: 'default'
  Workspaces__DefaultOwner: defaultWorkspaceOwner
  Demo__Seed: seedDemo ? 'true' : 'false'
}

module functionApp 'modules/function-app.bicep' = {
  name: 'functionapp'
  params: {
    name: '${baseName}-${suffix}'
    location: location
    tags: tags
    identityId: identity.id
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    runtimeName: runtimeName
    runtimeVersion: runtimeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    alwaysReady: alwaysReady
    appSettings: appSettings
    corsAllowedOrigins: corsAllowedOrigins
  }
  // Key Vault references and identity-based storage resolve at start: grant the roles first.
  dependsOn: [vault]
}

output functionAppName string = functionApp.outputs.name
output apiBaseUrl string = 'https://${functionApp.outputs.hostName}/api'
output storageAccountName string = storage.outputs.name
output blobEndpoint string = storage.outputs.blobEndpoint
output queueEndpoint string = storage.outputs.queueEndpoint
output deploymentContainerUrl string = storage.outputs.deploymentContainerUrl
output cosmosAccountName string = cosmos.outputs.name
output tableEndpoint string = cosmos.outputs.tableEndpoint
output keyVaultName string = vault.outputs.name
output keyVaultUri string = vault.outputs.uri
output appInsightsName string = monitoring.outputs.insightsName
output logAnalyticsWorkspaceName string = monitoring.outputs.workspaceName
output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
