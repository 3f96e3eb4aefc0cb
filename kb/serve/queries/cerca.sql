-- title: Cerca nelle note e nei risultati (ricerca in italiano)
-- description: Ricerca a testo pieno con le radici italiane: cooperativa trova anche
--   cooperative e cooperazione. Più parole: tutte richieste; "tra virgolette" una frase; OR
--   e NOT come operatori; coop* per l'inizio di una parola. Risultati migliori per primi.
-- param testo: text

select dove, id, tipo, tappa, titolo, testo, fonte from (
  select 'risultato' as dove, f.id, k.label as tipo, e.name as tappa, n.title as titolo,
    f.text as testo, f.source_path || ':' || f.source_line as fonte,
    bm25(findings_fts) as rank
  from findings_fts
  join findings f on f.rowid = findings_fts.rowid
  join notes n on n.id = f.note_id
  join finding_kinds k on k.id = f.kind
  left join events e on e.id = f.event_id
  where findings_fts match cotour_match(:testo)
  union all
  select 'nota', n.id, n.kind, e.name, n.title, n.text,
    n.source_path || ':' || n.source_line, bm25(notes_fts)
  from notes_fts
  join notes n on n.rowid = notes_fts.rowid
  left join events e on e.id = n.event_id
  where notes_fts match cotour_match(:testo)
)
order by rank, id
limit 100
