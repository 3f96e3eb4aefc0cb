-- title: Ibridazioni possibili per organizzazione
-- description: Le coppie tra un'organizzazione emergente e una tradizionale che potrebbero
--   completarsi (temi in comune, un problema dell'una a cui risponde una buona pratica
--   dell'altra, tappe in comune), con il motivo e i risultati che lo sostengono; prima le
--   possibili, poi quelle che collaborano già. La posizione segue il punteggio di classifica
--   (la colonna rank_score di hybrid_pairs), non il punteggio della coppia: una risposta già
--   citata da una coppia più in alto vi conta meno. L'organizzazione si scrive con la
--   denominazione, un altro nome usato nelle note o l'identificativo; se vuota tutte le coppie.
-- param organizzazione: organisations

with o as (select o.id from organisations o where lower(trim(:organizzazione)) in
             (o.id, lower(o.name), (select lower(value) from json_each(o.aliases)
                                    where lower(value) = lower(trim(:organizzazione)))))
select case p.realised when 1 then 'già avviata' else 'possibile' end as stato,
  p.rank as posizione, p.score as punteggio, p.rank_score as punteggio_classifica,
  p.emerging_id as emergente_id, e.name as emergente,
  p.traditional_id as tradizionale_id, t.name as tradizionale,
  p.reason as motivo, p.evidence_findings as risultati, p.id as coppia_id
from hybrid_pairs p
join organisations e on e.id = p.emerging_id
join organisations t on t.id = p.traditional_id
where trim(:organizzazione) = ''
   or p.emerging_id in (select id from o) or p.traditional_id in (select id from o)
order by p.realised, p.rank, p.id
limit 200
