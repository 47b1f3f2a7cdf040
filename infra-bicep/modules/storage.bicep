// Storage for the Functions host (AzureWebJobsStorage), the app's queues and media containers, and the
// deployment package. Shared-key access is off: everything goes through Entra identities, and browsers
// upload with user-delegation SAS (which needs no account key).
param name string
param location string
param tags object
param skuName string
param queues string[]
param containers string[]
param deploymentContainerName string
@description('Browser origins (microsites) allowed to upload and read blobs directly.')
param corsAllowedOrigins string[]
@description('The app\'s managed identity.')
param principalId string
@description('Days a photo original is kept after processing (Submissions__KeepPhotoOriginalsDays); 0: the app deletes it at once.')
param keepPhotoOriginalsDays int = 0
@description('Days print images and manifests (fan ids, label texts) are kept in label-print.')
param labelPrintDays int = 90
@description('Days a cached label preview (a rendered label text) is kept; it is rendered again on demand.')
param labelPreviewDays int = 30

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    cors: {
      corsRules: empty(corsAllowedOrigins) ? [] : [
        {
          allowedOrigins: corsAllowedOrigins
          allowedMethods: ['GET', 'HEAD', 'PUT', 'OPTIONS']
          allowedHeaders: ['content-type', 'content-length', 'x-ms-blob-type', 'x-ms-blob-content-type', 'x-ms-version', 'x-ms-date', 'x-ms-client-request-id', 'x-ms-meta-*']
          exposedHeaders: ['etag', 'x-ms-request-id', 'x-ms-version', 'x-ms-meta-*']
          maxAgeInSeconds: 3600
        }
      ]
    }
    deleteRetentionPolicy: { enabled: true, days: 7 }
    containerDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

// Retention the app does not enforce itself: kept photo originals expire here (the app deletes them at once when
// the setting is 0), fan upload blobs older than a day are removed even if the slot cleanup timer missed them, and
// blobs that carry label texts (often first names) and fan ids by age: cached previews and print batches (docs/privacy.md).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: concat([
        {
          name: 'upload-slots-backstop'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['submission-uploads/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: 1 } }, snapshot: { delete: { daysAfterCreationGreaterThan: 1 } } }
          }
        }
        {
          name: 'label-previews-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['label-previews/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: labelPreviewDays } } }
          }
        }
        {
          name: 'label-print-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['label-print/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: labelPrintDays } } }
          }
        }
      ], keepPhotoOriginalsDays > 0 ? [
        {
          name: 'photo-originals-retention'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['submission-originals/image/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: keepPhotoOriginalsDays } } }
          }
        }
      ] : [])
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for c in union(containers, [deploymentContainerName]): {
    parent: blobService
    name: c
    properties: { publicAccess: 'None' }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queueResources 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for q in queues: {
    parent: queueService
    name: q
  }
]

// Blob Data Owner (host leases, timers, deployment package, media, user-delegation keys) and
// Queue Data Contributor (triggers, poison queues, the app's own sends).
var roles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
]
resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in roles: {
    name: guid(account.id, principalId, role)
    scope: account
    properties: {
      principalId: principalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainerName}'
