-- title: I risultati di un tema (e dei suoi sottotemi)
-- description: Tutti i risultati etichettati con un tema, scritto come nell'interfaccia
--   (Spazi condivisi) o con l'identificativo (spazi-condivisi), compresi i temi più specifici
--   che ne discendono, in ordine di tipo e di data.
-- param tema: themes

with recursive scelti(id) as (
  select id from themes
  where lower(trim(:tema)) in (lower(id), lower(label), lower(label_en))
  union
  select t.id from themes t join scelti s on t.parent_id = s.id
)
select f.id as risultato_id, k.label as tipo, e.name as tappa, f.date as data,
  f.text as testo, f.themes as temi, f.organisations as organizzazioni
from findings f
join finding_kinds k on k.id = f.kind
join events e on e.id = f.event_id
where f.id in (select finding_id from finding_themes where theme_id in (select id from scelti))
order by k.position, e.date, e.id, f.note_id, f.position
