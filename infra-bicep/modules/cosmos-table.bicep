// Azure Cosmos DB for Table: the app's state (Azure.Data.Tables talks to it as to Table storage).
// Keys are off (disableLocalAuth); the app's identity gets the built-in data contributor role.
param name string
param location string
param tags object
param tables string[]
@allowed(['serverless', 'autoscale'])
param capacityMode string
@description('Autoscale maximum RU/s per table (autoscale only; scales between 10% and this).')
param autoscaleMaxThroughput int
param principalId string

var serverless = capacityMode == 'serverless'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      { locationName: location, failoverPriority: 0, isZoneRedundant: false }
    ]
    capabilities: serverless ? [{ name: 'EnableTable' }, { name: 'EnableServerless' }] : [{ name: 'EnableTable' }]
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    disableLocalAuth: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
  }
}

resource tableResources 'Microsoft.DocumentDB/databaseAccounts/tables@2024-11-15' = [
  for t in tables: {
    parent: account
    name: t
    properties: {
      resource: { id: t }
      options: serverless ? {} : { autoscaleSettings: { maxThroughput: autoscaleMaxThroughput } }
    }
  }
]

// Cosmos DB Built-in Data Contributor for the Table API (data-plane RBAC, not an Azure RBAC role).
resource dataContributor 'Microsoft.DocumentDB/databaseAccounts/tableRoleAssignments@2024-12-01-preview' = {
  parent: account
  name: guid(account.id, principalId, 'table-data-contributor')
  properties: {
    principalId: principalId
    roleDefinitionId: '${account.id}/tableRoleDefinitions/00000000-0000-0000-0000-000000000002'
    scope: account.id
  }
}

output name string = account.name
output tableEndpoint string = 'https://${account.name}.table.cosmos.azure.com:443/'
