using '../main.bicep'

// Development: serverless Cosmos DB, no always-ready instances (scale from zero), a low instance cap.
param environmentName = 'dev'
param corsAllowedOrigins = ['http://localhost:5173', 'https://campaigns-dev.example.com']
param maximumInstanceCount = 40
param alwaysReady = []
param cosmosCapacityMode = 'serverless'
param storageSku = 'Standard_LRS'
param logRetentionDays = 30
param authAuthority = 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0'
param authAudience = 'api://campaigns-dev'
param seedDemo = true
