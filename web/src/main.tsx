import { render } from "preact";
import { Api } from "./api/client";
import { App } from "./App";
import { MarkdownContext } from "./components/Markdown";
import { createMarkdownRenderer } from "./markdown/render";
import { createSanitizer } from "./markdown/sanitize";
import "./styles.css";

const markdown = createMarkdownRenderer(createSanitizer(window));
render(
  <MarkdownContext.Provider value={markdown}>
    <App api={new Api()} />
  </MarkdownContext.Provider>,
  document.getElementById("app")!,
);
