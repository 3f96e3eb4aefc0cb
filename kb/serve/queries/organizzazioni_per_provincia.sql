-- title: Organizzazioni per provincia e profilo
-- description: Quante organizzazioni in ogni provincia: emergenti, tradizionali, cooperative
--   (cooperative, cooperative sociali e consorzi) e quante trovate dalla mappatura.

select p.id as provincia, p.name as nome,
  count(o.id) as totale,
  count(case when o.profile = {{ EMERGING | sql }} then 1 end) as emergenti,
  count(case when o.profile = {{ TRADITIONAL | sql }} then 1 end) as tradizionali,
  count(case when o.is_cooperative = 1 then 1 end) as cooperative,
  count(case when o.mapped = 1 then 1 end) as mappate
from provinces p
left join organisations o on o.province = p.id
group by p.id
order by p.position, p.id
