// Loaded at the top of <body>, before anything is drawn, so GOV.UK Frontend's
// styles for scripted components apply from the first paint.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
