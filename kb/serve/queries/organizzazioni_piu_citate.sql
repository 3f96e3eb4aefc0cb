-- title: Le organizzazioni più citate, e dove
-- description: Le 50 organizzazioni citate nel maggior numero di risultati, quante volte come
--   fonte, in quante tappe e in quali. Il profilo è emergente o tradizionale; se vuoto tutte.
-- param profilo: profiles

-- The 50 first from finding_organisations alone; their events and places after.
with citate as (
  select fo.organisation_id as id, count(*) as risultati,
    count(case when fo.role = {{ SOURCE | sql }} then 1 end) as come_fonte
  from finding_organisations fo
  join organisations o on o.id = fo.organisation_id
  where trim(:profilo) = '' or o.profile = lower(trim(:profilo))
  group by fo.organisation_id
  order by risultati desc, come_fonte desc, o.name
  limit 50
)
select o.id as organizzazione_id, o.name as organizzazione, o.profile as profilo,
  o.province as provincia, c.risultati, c.come_fonte,
  (select count(distinct f.event_id) from finding_organisations fo
     join findings f on f.id = fo.finding_id where fo.organisation_id = o.id) as tappe,
  (select group_concat(v, ', ') from (
     select e.name || ': ' || count(distinct f2.id) as v
     from finding_organisations fo2
     join findings f2 on f2.id = fo2.finding_id
     join events e on e.id = f2.event_id
     where fo2.organisation_id = o.id
     group by e.id order by e.date, e.id)) as dove
from citate c
join organisations o on o.id = c.id
order by c.risultati desc, c.come_fonte desc, o.name
