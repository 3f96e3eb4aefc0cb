-- title: Minacce sollevate sia da attori emergenti sia da tradizionali
-- description: Per ogni tema, le minacce (o un altro tipo di risultato) sollevate come fonte
--   ([[!nome]] nelle note) da organizzazioni emergenti e quelle sollevate da organizzazioni
--   tradizionali: solo i temi in cui compaiono entrambe. Chi è soltanto citato non conta. Il
--   tipo si scrive come nell'interfaccia (Minacce, Problemi…) o con il codice; se vuoto vale
--   Minacce.
-- param tipo: finding_kinds

with fonti as (
  select f.id, ft.theme_id, o.profile
  from findings f
  join finding_organisations fo on fo.finding_id = f.id and fo.role = {{ SOURCE | sql }}
  join organisations o on o.id = fo.organisation_id
  join finding_themes ft on ft.finding_id = f.id
  where f.kind = (select id from finding_kinds
                  where lower(coalesce(nullif(trim(:tipo), ''), {{ THREAT | sql }}))
                        in (lower(id), lower(label), lower(label_en)))
)
select t.id as tema_id, t.label as tema,
  count(distinct fonti.id) as n_risultati,
  (select json_group_array(v) from (select distinct id as v from fonti x
     where x.theme_id = t.id and x.profile = {{ EMERGING | sql }} order by v)) as da_emergenti,
  (select json_group_array(v) from (select distinct id as v from fonti x
     where x.theme_id = t.id and x.profile = {{ TRADITIONAL | sql }} order by v)) as da_tradizionali
from fonti join themes t on t.id = fonti.theme_id
group by t.id
having count(distinct case when fonti.profile = {{ EMERGING | sql }} then fonti.id end) > 0
   and count(distinct case when fonti.profile = {{ TRADITIONAL | sql }} then fonti.id end) > 0
order by n_risultati desc, t.id
