import { initAll } from "../vendor/govuk-frontend.min.js";
import { followLinksIntoTabs } from "./tab-links.js";

initAll();
// htmx swaps parts of a page in place (a gap analysis run's results once it has
// finished): the GOV.UK components in them need setting up too. htmx also reports the
// whole page as loaded once, which initAll has just set up.
document.body.addEventListener("htmx:load", (event) => {
  const element = event.detail.elt;
  if (element instanceof Element && element !== document.body) initAll({ scope: element });
});
followLinksIntoTabs();
