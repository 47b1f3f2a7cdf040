using '../main.bicep'

// Production: autoscale Cosmos DB, warm HTTP instances for TV-spot bursts (raise before an air time,
// docs/operations.md "Burst preparation"), zone-redundant storage.
param environmentName = 'prod'
param corsAllowedOrigins = ['https://campaigns.example.com']
param maximumInstanceCount = 400
param alwaysReady = [
  { name: 'http', instanceCount: 2 }
]
param cosmosCapacityMode = 'autoscale'
param cosmosAutoscaleMaxThroughput = 10000
param storageSku = 'Standard_ZRS'
param logRetentionDays = 90
param authAuthority = 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0'
param authAudience = 'api://campaigns'
