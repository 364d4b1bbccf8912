/**
 * Azure credentials from the environment, apart from destination.ts so that deciding whether direct
 * mode applies does not load @azure/storage-blob (the SDK is imported only when a drive uses it).
 */
export type AzureCredentials =
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'key'; account: string; key: string }
  | { kind: 'sas'; account?: string; sas: string };

/** Reads Azure credentials from the environment; undefined when none are set. */
export function azureCredentialsFromEnv(env: NodeJS.ProcessEnv): AzureCredentials | undefined {
  if (env.AZURE_STORAGE_CONNECTION_STRING)
    return { kind: 'connection-string', connectionString: env.AZURE_STORAGE_CONNECTION_STRING };
  if (env.AZURE_STORAGE_ACCOUNT && env.AZURE_STORAGE_KEY)
    return { kind: 'key', account: env.AZURE_STORAGE_ACCOUNT, key: env.AZURE_STORAGE_KEY };
  if (env.AZURE_STORAGE_SAS_TOKEN)
    return { kind: 'sas', account: env.AZURE_STORAGE_ACCOUNT, sas: env.AZURE_STORAGE_SAS_TOKEN };
  return undefined;
}
