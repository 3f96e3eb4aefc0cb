"""Error pages in Italian, without tracebacks."""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils.asgi import Base400, Forbidden, NotFound, Response
from datasette.views.base import DatasetteError

from .cells import log

ERROR_TITLES = {400: "Richiesta non valida", 403: "Accesso negato", 404: "Pagina non trovata",
                405: "Metodo non consentito", 500: "Errore del server"}

# Datasette's page for a query stopped at its time limit (title "SQL Interrupted"), in Italian.
TOO_LONG = ("Questa pagina ha richiesto troppo tempo ed è stata interrotta. Restringi la "
            "richiesta con un filtro (tipo di risultato, provincia, tappa) o una condizione "
            "in più.")
TOO_LONG_SEARCH = ("Questa ricerca ha richiesto troppo tempo ed è stata interrotta: le parole "
                   "cercate compaiono in moltissimi risultati. Aggiungi un'altra parola, oppure "
                   "restringi con un filtro (tipo di risultato, provincia, tappa).")

ERROR_MESSAGES = {404: "Questa pagina non esiste: controlla l'indirizzo, o torna all'inizio.",
                  403: "Questa pagina è riservata allo staff: accedi per vederla."}


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    """Datasette's error pages, in Italian, and without printing a traceback: a wrong address
    or argument is the visitor's mistake, logged as one line; only a real fault is an error."""
    outcome = yield
    if isinstance(exception, Base400):
        status, message = exception.status, str(exception.args[0] if exception.args else "")
    elif isinstance(exception, DatasetteError):  # a bad sort, facet or SQL: the request's
        status, message = (exception.status if exception.status != 500 else 400,
                           exception.message)
        if getattr(exception, "title", None) == "SQL Interrupted":
            message = TOO_LONG_SEARCH if "_search" in request.args else TOO_LONG
    else:
        status, message = 500, "Si è verificato un errore imprevisto."
        log.error("%s %s: %s: %s", request.method, request.path, type(exception).__name__,
                  exception)
    if status in ERROR_MESSAGES and (status == 404 or isinstance(exception, Forbidden)):
        message = ERROR_MESSAGES[status]
    if isinstance(exception, NotFound) and request.path != "/-/cotour-non-trovato":
        message = ERROR_MESSAGES[404]

    async def respond():
        info = {"ok": False, "error": message, "status": status,
                "title": ERROR_TITLES.get(status, "Errore")}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=status)
        page = await datasette.render_template(["error.html"], dict(info), request=request)
        return Response.html(page, status=status)

    outcome.force_result([respond])
