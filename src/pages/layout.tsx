import type { Child } from "hono/jsx";
import { CLIENT_SCRIPTS, type ClientScript } from "./client-scripts";
import { STYLESHEET_PATH } from "./security";

export interface LayoutProps {
  title: string;
  /** This response's CSP nonce; only scripts carrying it run. */
  nonce: string;
  /** The page's client script, by its module's name under ./client (see ./client-scripts.ts). */
  script: ClientScript;
  /** "required": an API answer of 401 `unauthorized` sends the person to sign in. */
  session?: "required";
  wide?: boolean;
  /** An id for the h1, for a script that rewrites it. */
  titleId?: string;
  children?: Child;
}

/** An inline script the CSP admits by this response's nonce. */
export function Script(props: { nonce: string; code: string }) {
  return <script nonce={props.nonce} dangerouslySetInnerHTML={{ __html: props.code }} />;
}

/** The frame of every hosted page: skip link, header, one main landmark with the page's h1, scripts last. */
export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title}: HeadyKey`}</title>
        <link rel="stylesheet" href={STYLESHEET_PATH} />
        {/* No /favicon.ico request (a 404 in the console). */}
        <link rel="icon" href="data:," />
      </head>
      <body data-session={props.session}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <a class="brand" href="/">
            HeadyKey
          </a>
          <nav aria-label="Main">
            <a href="/account">Account</a>
            <a href="/docs">API</a>
          </nav>
        </header>
        <main id="main" class={props.wide ? "wide" : undefined}>
          <h1 id={props.titleId}>{props.title}</h1>
          {props.children}
        </main>
        <Script nonce={props.nonce} code={CLIENT_SCRIPTS[props.script]} />
      </body>
    </html>
  );
}
