// Log Analytics + workspace-based Application Insights with local (key) auth off: telemetry is sent with Entra tokens.
param namePrefix string
param location string
param tags object
param retentionInDays int
@description('Principal that sends telemetry (the app\'s managed identity).')
param publisherPrincipalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    features: { disableLocalAuth: true }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-insights'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    DisableLocalAuth: true
  }
}

// Monitoring Metrics Publisher: the only right needed to ingest with Entra auth.
var metricsPublisherRole = '3913510d-42f4-4e42-8a64-420c390055eb'
resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, publisherPrincipalId, metricsPublisherRole)
  scope: insights
  properties: {
    principalId: publisherPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', metricsPublisherRole)
  }
}

output connectionString string = insights.properties.ConnectionString
output insightsName string = insights.name
output workspaceName string = workspace.name
output workspaceId string = workspace.id
