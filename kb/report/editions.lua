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
--
-- And every column at least as wide as its longest word: Word and LibreOffice break a word that
-- does not fit its cell inside it ("Piacenz|a"). The widths the template gives (as shares of
-- the line) are kept where they leave room; the columns that need more take it from those with
-- room to spare.
local LINE_EMS = 58  -- the editions' A4 line in ems of 8 pt table text
local MARGIN_EMS = 1.2  -- a cell's two margins and a little air

-- A word's width in ems of bold Noto Sans, roughly: capitals wide, i l t f r j narrow.
local function word_ems(word)
  local ems = 0
  for _, code in utf8.codes(word) do
    local ch = utf8.char(code)
    if ch:match("%u") then ems = ems + 0.74
    elseif ch:match("[iljtfr%.,;:'%(%)]") or ch == "ì" then ems = ems + 0.34
    else ems = ems + 0.58 end
  end
  return ems
end

local function longest_word(cell)
  local longest = 0
  -- a soft hyphen is a place where a word may break
  local text = pandoc.utils.stringify(cell.contents):gsub("\u{00AD}", " ")
  for word in text:gmatch("%S+") do
    longest = math.max(longest, word_ems(word))
  end
  return longest
end

local function fit_words(t)
  local n = #t.colspecs
  if n < 2 then return end
  local need = {}
  for i = 1, n do need[i] = 0 end
  local function measure(rows)
    for _, row in ipairs(rows) do
      for i, cell in ipairs(row.cells) do
        if i <= n and cell.col_span == 1 then
          need[i] = math.max(need[i], (longest_word(cell) + MARGIN_EMS) / LINE_EMS)
        end
      end
    end
  end
  measure(t.head.rows)
  for _, body in ipairs(t.bodies) do measure(body.body) end
  local widths, total_need = {}, 0
  for i, spec in ipairs(t.colspecs) do
    local given = spec[2]
    widths[i] = (type(given) == "number" and given > 0) and given or 1 / n
    total_need = total_need + need[i]
  end
  if total_need > 1 then return end  -- no widths can keep every word whole
  local short, spare = 0, 0
  for i = 1, n do
    if widths[i] < need[i] then short = short + need[i] - widths[i]
    else spare = spare + widths[i] - need[i] end
  end
  if short == 0 then return end
  for i = 1, n do
    if widths[i] < need[i] then widths[i] = need[i]
    else widths[i] = widths[i] - (widths[i] - need[i]) * short / spare end
  end
  for i, spec in ipairs(t.colspecs) do t.colspecs[i] = {spec[1], widths[i]} end
end

function Table(t)
  fit_words(t)
  if FORMAT ~= "odt" then return t end
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
