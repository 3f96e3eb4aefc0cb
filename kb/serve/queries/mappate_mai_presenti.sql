-- title: Organizzazioni mappate che non hanno mai partecipato
-- description: Le organizzazioni trovate dalla mappatura della fase 1 che non compaiono fra i
--   partecipanti di alcuna nota, non hanno ospitato alcuna tappa e non hanno sollevato alcun
--   risultato (essere soltanto citate non conta). La provincia si scrive con il nome
--   (Bologna) o con la sigla (BO); se vuota tutte.
-- param provincia: provinces

select o.id as organizzazione_id, o.name as organizzazione, o.legal_form as forma_giuridica,
  o.profile as profilo, o.sector as settore, o.province as provincia, o.municipality as comune
from organisations o
where o.mapped = 1
  and o.id not in (select organisation_id from note_participants)
  and o.id not in (select organisation_id from event_hosts)
  and o.id not in (select organisation_id from finding_organisations where role = {{ SOURCE | sql }})
  and (trim(:provincia) = '' or o.province = (select id from provinces
       where lower(trim(:provincia)) in (lower(id), lower(name))))
order by o.province, o.name
