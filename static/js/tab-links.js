// A link to a part of a tab panel that is not showing (a grouping's gaps, linked from the
// run's summary) opens that panel's tab first: GOV.UK's tabs follow only links to a whole
// panel. Tabs switch on the hashchange event, so for that moment the address names the
// panel, then the part again, in the same history entry.

let showing = false;

function hiddenPanelHolding(target) {
  if (target.classList.contains("govuk-tabs__panel")) return null; // the tabs' own business
  const panel = target.closest(".govuk-tabs__panel--hidden");
  return panel && panel.id ? panel : null;
}

function targetOf(hash) {
  const id = decodeURIComponent((hash || "").slice(1));
  return id ? document.getElementById(id) : null;
}

function show(target) {
  const panel = hiddenPanelHolding(target);
  if (!panel || showing) return false;
  showing = true;
  try {
    history.replaceState(history.state, "", `#${panel.id}`);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    history.replaceState(history.state, "", `#${target.id}`);
  } finally {
    showing = false;
  }
  if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus();
  return true;
}

export function followLinksIntoTabs() {
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href^="#"]') : null;
    if (!link || link.classList.contains("govuk-tabs__tab")) return;
    const target = targetOf(link.getAttribute("href"));
    if (!target || !hiddenPanelHolding(target)) return;
    event.preventDefault();
    history.pushState(history.state, "", `#${target.id}`);
    show(target);
  });
  window.addEventListener("hashchange", () => {
    const target = targetOf(window.location.hash);
    if (target) show(target);
  });
  const target = targetOf(window.location.hash);
  if (target) show(target);
}
