-- title: Temi × province
-- description: Quanti risultati per tema in ogni provincia (le sigle delle province come
--   colonne). Il tipo si scrive come nell'interfaccia (Minacce, Buone pratiche…) o con il
--   codice; se vuoto conta tutti i tipi.
-- param tipo: finding_kinds

-- One column per province, in the database's order (written out when the query is served).
-- (finding, theme) is the key of finding_themes: counting rows counts distinct findings.
select t.id as tema_id, t.label as tema,
  count(f.id) as totale
  {%- for p in provinces %},
  count(case when f.province = {{ p.id | sql }} then 1 end) as {{ p.id | name }}
  {%- endfor %}
from themes t
left join finding_themes ft on ft.theme_id = t.id
left join findings f on f.id = ft.finding_id
  and (trim(:tipo) = '' or f.kind = (select id from finding_kinds
       where lower(trim(:tipo)) in (lower(id), lower(label), lower(label_en))))
group by t.id
order by totale desc, t.id
