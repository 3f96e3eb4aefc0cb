-- pandoc 2.17's OpenDocument writer drops a table's row-header cells (<th scope="row">) and its
-- footer rows (<tfoot>): make them ordinary cells and rows, so no figure of the report is lost.
function Table(t)
  for _, body in ipairs(t.bodies) do body.row_head_columns = 0 end
  if #t.foot.rows > 0 and #t.bodies > 0 then
    local rows = t.bodies[#t.bodies].body
    for _, row in ipairs(t.foot.rows) do rows:insert(row) end
    t.foot.rows = {}
  end
  return t
end
