-- title: Nuove iniziative: da quali tappe e organizzazioni nascono
-- description: Le iniziative lanciate all'incontro finale, con le tappe in cui è nata l'idea,
--   le organizzazioni coinvolte e i temi. Lo stato è proposta, avviata o conclusa; se vuoto
--   tutte.
-- param stato: initiative_statuses

select i.id as iniziativa_id, i.title as iniziativa, i.status as stato,
  (select group_concat(v, ', ') from (
     select e.name || ' (' || coalesce(e.date, 'senza data') || ')' as v
     from initiative_events ie join events e on e.id = ie.event_id
     where ie.initiative_id = i.id order by e.date, e.id)) as nata_da,
  (select group_concat(v, ', ') from (
     select o.name as v from initiative_organisations io
     join organisations o on o.id = io.organisation_id
     where io.initiative_id = i.id order by o.name)) as organizzazioni,
  (select group_concat(v, ', ') from (
     select t.label as v from initiative_themes it
     join themes t on t.id = it.theme_id
     where it.initiative_id = i.id order by t.label)) as temi,
  i.description as descrizione
from initiatives i
where trim(:stato) = '' or i.status = lower(trim(:stato))
order by i.id
