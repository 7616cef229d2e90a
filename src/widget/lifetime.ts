/** The longest `WIDGET_SESSION_TTL_SECONDS` accepted, and the lifetime cap the widget-token verifier enforces. */
export const WIDGET_TOKEN_MAX_TTL_SECONDS = 3600;
