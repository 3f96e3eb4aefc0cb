-- title: Risultati che citano due organizzazioni
-- description: I risultati in cui compaiono entrambe le organizzazioni indicate, con la
--   denominazione (Kilowatt Soc. Coop), un altro nome usato nelle note o l'identificativo
--   (kilowatt).
-- param organizzazione_1: organisations
-- param organizzazione_2: organisations

with a as (select o.id from organisations o where lower(trim(:organizzazione_1)) in
             (o.id, lower(o.name), (select lower(value) from json_each(o.aliases)
                                    where lower(value) = lower(trim(:organizzazione_1))))),
     b as (select o.id from organisations o where lower(trim(:organizzazione_2)) in
             (o.id, lower(o.name), (select lower(value) from json_each(o.aliases)
                                    where lower(value) = lower(trim(:organizzazione_2)))))
select f.id as risultato_id, k.label as tipo, e.name as tappa, f.date as data,
  n.title as nota, f.text as testo, f.organisations as organizzazioni
from findings f
join finding_kinds k on k.id = f.kind
join events e on e.id = f.event_id
join notes n on n.id = f.note_id
where f.id in (select finding_id from finding_organisations
               where organisation_id in (select id from a))
  and f.id in (select finding_id from finding_organisations
               where organisation_id in (select id from b))
order by e.date, e.id, f.note_id, f.position
