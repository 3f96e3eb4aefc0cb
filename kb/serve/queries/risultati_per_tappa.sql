-- title: Che cosa ha prodotto ogni tappa, per tipo
-- description: Per ogni tappa del tour e per l'incontro finale: le note raccolte, quanti
--   risultati in tutto e quanti di ogni tipo (una colonna per tipo).

-- One column per finding kind, in the database's order (written out when the query is served).
select e.id as tappa_id, e.name as tappa, e.date as data, e.kind as tipo_evento,
  e.status as stato,
  (select count(*) from notes n where n.event_id = e.id) as note,
  count(f.id) as risultati
  {%- for k in kinds %},
  count(case when f.kind = {{ k.id | sql }} then 1 end) as {{ k.label | name }}
  {%- endfor %}
from events e
left join findings f on f.event_id = e.id
group by e.id
order by e.date is null, e.date, e.id
