-- pandoc filter for the report's editable editions (kb/editions.py).

-- A theme's tag inside a finding (a chip in the PDF) takes the reference documents' "Tag" style,
-- so that it stays apart from the sentence before it and from the next tag.
-- (The OpenDocument writer of pandoc 2.17 ignores custom-style on text: it gets the span as is.)
local function xml_escape(text)
  return (text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

function Span(span)
  if not span.classes:includes("tag") then return nil end
  if FORMAT == "odt" then
    local words = xml_escape(pandoc.utils.stringify(span))
    return pandoc.RawInline("opendocument", '<text:span text:style-name="Tag">' .. words .. "</text:span>")
  end
  span.attributes["custom-style"] = "Tag"
  return span
end

-- A block with an id (a finding, the target of links from the synthesis) becomes a section in
-- OpenDocument, which a list item may not hold: LibreOffice drops the whole finding. Keep the
-- id as a bookmark at the block's start instead.
local function first_paragraph(blocks)
  local first = blocks[1]
  if first and (first.t == "Para" or first.t == "Plain") then return first end
  if first and first.t == "Div" then return first_paragraph(first.content) end
end

function Div(div)
  if FORMAT ~= "odt" or div.identifier == "" then return nil end
  local mark = pandoc.Span({}, {id = div.identifier})
  local paragraph = first_paragraph(div.content)
  if paragraph then
    paragraph.content:insert(1, mark)
  else
    div.content:insert(1, pandoc.Plain({mark}))
  end
  return div.content
end

-- pandoc 2.17's OpenDocument writer drops a table's row-header cells (<th scope="row">) and its
-- footer rows (<tfoot>): make them ordinary cells and rows, so no figure of the report is lost.
function Table(t)
  if FORMAT ~= "odt" then return nil end
  for _, body in ipairs(t.bodies) do body.row_head_columns = 0 end
  if #t.foot.rows > 0 and #t.bodies > 0 then
    local rows = t.bodies[#t.bodies].body
    for _, row in ipairs(t.foot.rows) do rows:insert(row) end
    t.foot.rows = {}
  end
  return t
end

-- A mention of an organisation is a link to its row in the PDF and on screen; in a document
-- to edit, every name blue and underlined would read as a page of links: keep the words.
function Link(link)
  if link.classes:includes("org") then return link.content end
  return nil
end
