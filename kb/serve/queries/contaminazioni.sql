-- title: Contaminazioni: risultati che uniscono emergenti e tradizionali
-- description: I risultati in cui compaiono insieme organizzazioni emergenti e tradizionali,
--   in qualunque ruolo: il cuore della nuova mutualità. Il tipo si scrive come
--   nell'interfaccia (Buone pratiche, Minacce…) o con il codice; se vuoto tutti i tipi.
-- param tipo: finding_kinds

-- The mixed findings in one pass over finding_organisations.
with misti as (
  select fo.finding_id as id from finding_organisations fo
  join organisations o on o.id = fo.organisation_id
  group by fo.finding_id
  having count(case when o.profile = {{ EMERGING | sql }} then 1 end) > 0
     and count(case when o.profile = {{ TRADITIONAL | sql }} then 1 end) > 0
)
select f.id as risultato_id, k.label as tipo, e.name as tappa, f.date as data,
  f.text as testo,
  (select group_concat(v, ', ') from (
     select o.name || ' (' || o.profile || ')' as v from finding_organisations fo
     join organisations o on o.id = fo.organisation_id
     where fo.finding_id = f.id order by o.profile, o.name)) as organizzazioni
from misti
join findings f on f.id = misti.id
join finding_kinds k on k.id = f.kind
join events e on e.id = f.event_id
where trim(:tipo) = '' or f.kind = (select id from finding_kinds
      where lower(trim(:tipo)) in (lower(id), lower(label), lower(label_en)))
order by k.position, e.date, e.id, f.note_id, f.position
