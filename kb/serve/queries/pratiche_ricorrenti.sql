-- title: Buone pratiche ricorrenti in più province
-- description: Una pratica ricorre quando risultati dello stesso tipo condividono un tema in
--   due o più province: per ogni tema, le province, quanti risultati e quali. Il tipo si
--   scrive come nell'interfaccia (Buone pratiche, Minacce…) o con il codice (practice,
--   threat…); se vuoto vale Buone pratiche.
-- param tipo: finding_kinds

-- The chosen (theme, finding) pairs are computed once and read three times.
with scelti as materialized (
  select ft.theme_id, f.id, f.province from findings f
  join finding_themes ft on ft.finding_id = f.id
  where f.kind = (select id from finding_kinds
                  where lower(coalesce(nullif(trim(:tipo), ''), {{ PRACTICE | sql }}))
                        in (lower(id), lower(label), lower(label_en)))
)
select t.id as tema_id, t.label as tema,
  count(distinct s.province) as n_province,
  (select group_concat(v, ', ') from (select distinct x.province as v from scelti x
      where x.theme_id = t.id order by v)) as province,
  count(distinct s.id) as n_risultati,
  (select json_group_array(v) from (select distinct x.id as v from scelti x
      where x.theme_id = t.id order by v)) as risultati
from scelti s
join themes t on t.id = s.theme_id
group by t.id
having count(distinct s.province) >= 2
order by n_province desc, n_risultati desc, t.id
