// The browsable API page: Swagger UI (from the swagger-ui-bundle package) over /openapi.json.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  // validatorUrl: null keeps Swagger UI from sending the description to an online validator.
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
});
