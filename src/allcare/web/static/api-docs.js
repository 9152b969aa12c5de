// Starts Swagger UI on /api/docs (a file, not an inline script: the page's CSP allows scripts from this server only).
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: element.dataset.openapi, dom_id: "#swagger-ui", deepLinking: true });
});
