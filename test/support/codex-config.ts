/**
 * The config.toml that points a pinned codex at the scripted model server with nothing else on the
 * network: one place for every codex contract test. Tables a test adds (an MCP server) go after.
 */
export function codexOfflineToml(
  serverUrl: string,
  opts: { model?: string; noRetries?: boolean } = {},
): string[] {
  return [
    'model_provider = "mock"',
    ...(opts.model ? [`model = "${opts.model}"`] : []),
    "",
    "[analytics]",
    "enabled = false",
    "",
    // The plugin marketplaces are fetched from the network at start.
    "[features]",
    "plugins = false",
    "remote_plugin = false",
    "",
    "[model_providers.mock]",
    'name = "mock"',
    `base_url = "${serverUrl}/v1"`,
    'wire_api = "responses"',
    'env_key = "MOCK_API_KEY"',
    // codex retries a failed request itself (request_max_retries, 4 by default: 5xx and network
    // errors; it does not retry a 429 of this provider) and a dropped stream (stream_max_retries,
    // 5). Both off, so that weft's own retries are the only ones (C02). The names are
    // ModelProviderInfo's fields in the 0.169.0 binary.
    ...(opts.noRetries ? ["request_max_retries = 0", "stream_max_retries = 0"] : []),
    "",
  ];
}
