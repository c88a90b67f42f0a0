import { initAll } from "../vendor/govuk-frontend.min.js";

initAll();
