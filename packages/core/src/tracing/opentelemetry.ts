/**
 * @opentelemetry/api, when the application has it installed (an optional peer dependency):
 * imported once, on first need, by a guarded dynamic import. When it is not installed nothing
 * is loaded and tracing is off — enqueue stores no trace context and runs make no span. Any other
 * failure to load it (a broken install) is thrown, not taken for absence.
 */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

let loading: Promise<OpenTelemetryApi | null> | null = null;

export function loadOpenTelemetry(): Promise<OpenTelemetryApi | null> {
  loading ??= import('@opentelemetry/api').then(
    (api) => api,
    (error: unknown) => {
      if (isNotInstalled(error)) return null;
      loading = null;
      throw error;
    },
  );
  return loading;
}

function isNotInstalled(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}
