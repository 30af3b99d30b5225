"""Name pools for synthetic patients: real given names and surnames from many cultures,
in rough order of frequency, with weights.

Each list is written most common first. A name's weight is either given explicitly
(``Nguyễn:38`` — a percentage of the culture's total) or follows a Zipf–Mandelbrot curve
over its rank, ``1 / (rank + offset) ** exponent``: a few common names, a long tail. The
offset flattens the head so that, as in real populations, the most common surname in the
mix is well under 1% of all people while hundreds of names are each rare.

Some cultures also *synthesise* plausible extra surnames from roots and suffixes
(Scandinavian ``Lind`` + ``berg``, Polish ``Sad`` + ``owski``, Japanese ``Yama`` + ``moto``)
to give the realistic long tail that keeps exact name combinations mostly distinct at a
million patients. They take a fixed share of the culture's surname weight, spread thinly.

Lists are whitespace separated; ``_`` stands for a space inside one name (``De_la_Cruz``,
``María_José``). Russian names are written in Cyrillic; the generator transliterates most
of them and feminises surnames by the language's rules.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from functools import cache

# ------------------------------------------------------------------------ the cultures


@dataclass(frozen=True)
class CultureData:
    """Raw name data of one culture and how common it is among the clinic's patients."""

    key: str
    share: float                              # of all patients
    languages: tuple[tuple[str, float], ...]  # BCP 47 tag, weight (native speakers)
    male: str
    female: str
    surnames: str
    synth_roots: str = ""
    synth_suffixes: str = ""
    synth_share: float = 0.0                  # of the surname weight, for synthesised names
    surname_offset: float = 8.0
    surname_exponent: float = 1.0
    given_offset: float = 4.0
    given_exponent: float = 1.0
    middle_rate: float = 0.1                  # how many people have a middle name


ENGLISH = CultureData(
    key="english", share=0.29, languages=(("en", 1.0),), middle_rate=0.45,
    surname_offset=12.0,
    male="""
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel
Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian George Timothy
Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin
Scott Brandon Benjamin Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry
Tyler Aaron Henry Adam Douglas Nathan Peter Zachary Kyle Walter Harold Jeremy Ethan Carl
Keith Roger Gerald Christian Terry Sean Arthur Austin Noah Lawrence Jesse Joe Bryan Billy
Jordan Albert Dylan Bruce Willie Gabriel Alan Logan Wayne Ralph Roy Eugene Randy Vincent
Russell Louis Philip Bobby Johnny Bradley Oliver Harry Liam Mason Lucas Elijah Owen Caleb
Isaac Luke Connor Hunter Evan Jayden Aiden Wyatt Carter Julian Leo Grayson Levi Isaiah
Theodore Hudson Lincoln Jaxon Josiah Charlie Freddie Archie Alfie Oscar Toby Reggie Stanley
Phillip Jon Steve Geoffrey Allan Allen Travis Shawn Craig Derek Marcus Cody Chad Jared
Shane Curtis Martin Howard Fred Glenn Clarence Earl Jimmy Antonio Dale Lee Leonard Victor
Todd Cameron Wesley Mitchell Seth Dustin Corey Trevor Jeffery Darren Neil Graham Nigel
Stuart Colin Ian Malcolm Barry Clive Trevor Gavin Darryl Tristan Rhys Gareth Dominic
Edmund Rupert Hugo Jasper Felix Sebastian Elliot Elliott Miles Spencer Dean Ross Grant
Kenny Micheal Brett Troy Jake Nathaniel Joel Marvin Calvin Rodney Herbert Reginald
Clifford Vernon Lloyd Franklin Bernard Leroy Alvin Tommy Eddie Dwayne DeShawn Tyrone
Jamal Darnell Terrence Malik Andre Jerome Maurice Xavier Quentin Desmond Cedric
""",
    female="""
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty
Sandra Margaret Ashley Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah
Stephanie Dorothy Rebecca Sharon Laura Cynthia Amy Kathleen Angela Shirley Brenda Emma
Anna Pamela Nicole Samantha Katherine Christine Helen Debra Rachel Carolyn Janet Maria
Catherine Heather Diane Olivia Julie Joyce Victoria Ruth Virginia Lauren Kelly Christina
Joan Evelyn Judith Andrea Hannah Megan Cheryl Jacqueline Martha Madison Teresa Gloria
Sara Janice Ann Kathryn Abigail Sophia Frances Jean Alice Judy Isabella Julia Grace Amber
Denise Danielle Marilyn Beverly Charlotte Natalie Theresa Diana Brittany Doris Kayla
Alexis Lori Ava Mia Harper Ella Scarlett Chloe Lily Zoe Zoë Aria Layla Riley Nora Hazel
Aurora Savannah Brooklyn Leah Stella Ellie Paisley Violet Claire Lucy Isla Poppy Freya
Florence Daisy Imogen Phoebe Holly Jasmine Georgia Katie Caitlin Kaitlyn Katelyn Anne
Rebekah Hayley Haley Hailey Tiffany Crystal Erin Tracy Tracey Wendy Tammy Dawn Kristen
Courtney Erica Erika Vanessa Monica Allison Alison Melanie Jill Joanne Jo-Anne Gail
Sheila Pauline Maureen Lorraine Valerie Yvonne Beverley Gillian Lesley Leslie Kirsty
Gemma Kerry Kerry-Ann Naomi Bethany Chelsea Amelia Eleanor Elsie Edith Mabel Ivy Ada
Maxine Lynn Lynne Marie Rose Rosemary Peggy Bonnie Connie Kathy Cathy Debbie Tina
Shanice Latoya Keisha Tamika Ebony Aaliyah Imani Jada Destiny Shaniqua
""",
    surnames="""
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin
Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott
Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker
Evans Edwards Collins Stewart Morris Rogers Reed Cook Morgan Bell Murphy Bailey Cooper
Richardson Cox Howard Ward Peterson Gray Grey James Watson Brooks Kelly Sanders Price
Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Hughes
Washington Butler Simmons Foster Bryant Alexander Russell Griffin Hayes Myers Ford
Hamilton Graham Sullivan Wallace Woods Cole West Jordan Owens Reynolds Fisher Ellis
Harrison Gibson Marshall Wells Simpson Stevens Tucker Porter Hunter Hicks Crawford Henry
Boyd Mason Kennedy Warren Dixon Burns Gordon Shaw Holmes Rice Hunt Black Daniels Palmer
Mills Nichols Grant Knight Stone Hawkins Dunn Perkins Hudson Spencer Gardner Stephens
Payne Pierce Berry Matthews Arnold Willis Ray Watkins Carroll Duncan Snyder Hart
Cunningham Bradley Lane Andrews Harper Fox Riley Armstrong Carpenter Weaver Greene
Lawrence Elliott Sims Austin Peters Kelley Franklin Lawson Fields Ryan Carr Wheeler
Chapman Oliver Montgomery Richards Williamson Johnston Banks Bishop McCoy Howell Morrison
Harvey Little Burton Stanley George Jacobs Reid Fuller Dean Gilbert Garrett Welch Frazier
Day Bowman Fowler Brewer Hoffman Pearson Holland Douglas Fleming Byrd Davidson Hopkins May
Terry Wade Walters Curtis Neal Caldwell Lowe Jennings Barnett Graves Horton Shelton
Barrett Sutton Gregory McKinney Lucas Miles Craig Chambers Holt Lambert Fletcher Watts
Bates Hale Rhodes Beck Newman Haynes McDaniel Bush Vaughn Parks Dawson Norris Hardy Love
Steele Curry Powers Barker Page Ball Chandler Leonard Lyons Ramsey Mullins Benson Sharp
Bowen Daniel Barber Cummings Hines Baldwin Griffith Hubbard Reeves Warner Stevenson
Burgess Tate Cross Garner Mann Mack Moss Thornton Dennis McGee Farmer Glover Manning
Harmon Rodgers Robbins Newton Todd Blair Ingram Reese Cannon Strickland Townsend Potter
Goodwin Walton Rowe Hampton Patton Swanson Joseph Francis Goodman Yates Hodges Conner
Adkins Webster Norman Malone Hammond Flowers Cobb Moody Blake Maxwell Pope Floyd Osborne
Paul Lindsey Gibbs Tyler Gross Stokes Sherman Saunders Wise Gill Greer Simon Waters Ballard
Houston Pratt Briggs Parsons Buchanan Copeland Roy Pittman Brady Holloway Brock Poole
Logan Owen Bass Marsh Drake Jefferson Morton Abbott Sparks Patrick Norton Huff Clayton
Massey Lloyd Carson Bowers Roberson Barton Lamb Harrington Boone Clarke Mathis Singleton
Wilkins Cain Bryan Underwood Collier Phelps Allison Bridges Wilkerson Nash Summers Atkins
Davies Hall Lee Wood Griffiths Wilkinson Webb Rees Pearce Booth Rose Atkinson Burton Bird
Cooke Parry Nicholson Shepherd Freeman Nicholls Hodgson Robson Whitehead Hewitt Slater
Frost Woodward Thomson Smyth Philips Baxter Greenwood Kemp Bond Heath Middleton Nixon
Hutchinson Pritchard Buckley Stephenson Read Harding Gilbert Barlow Dickinson Lord Hargreaves
Sykes Tomlinson Fenton Ashworth Horner Ingham Kirby Marsden Oakley Pickering Rigby
Rushton Thorpe Whittaker Wainwright Wolstenholme Ackroyd Haigh Bradshaw Butterworth
Cartwright Crowther Entwistle Fairbanks Greaves Holroyd Illingworth Knowles Lister
Mallinson Nuttall Pilkington Ramsden Sugden Sutcliffe Waddington Whitworth Wrigley
Chadwick Cheetham Hollingsworth Rothwell Stansfield Tattersall Ashcroft Beckett Blackburn
Fairclough Hargrave Kershaw Lomax Marlow Pemberton Royle Shackleton Thistlethwaite
Abernathy Alcott Applegate Babcock Blackwell Braddock Brewster Buckingham Burnett Calloway
Chamberlain Chesterfield Coltrane Cromwell Dalrymple Dempsey Dorsey Eastwood Ellsworth
Fairchild Forsyth Gale Garfield Goodall Hackett Halsey Hathaway Hawthorne Hightower Hollis
Huxley Kingsley Langford Livingston Lockwood Mansfield Merriweather Morley Northcott
Pendleton Prescott Radcliffe Ramsay Rutherford Sheffield Sinclair Stafford Sterling
Stratford Thackeray Tolliver Trowbridge Underhill Vickers Wadsworth Westbrook Whitfield
Winslow Wolcott Worthington Yardley Youngblood
""",
    synth_roots="""
Ash Black Brad Brook Crom Dal Elm Fair Haw Hol Kings Lang Mar Mid Mor New North Ox Pen
Red Ring Rock Rud Rush Shel Stan Staf Sut Thorn Wal Wes Whit Wick Win Wood Wy Bar Bur Cal
Chil Clay Cot Eld Ful Grim Hal Hay Kel Lud Lyn Mel Ned Pem Ral Sal Sel Ten Tud
""",
    synth_suffixes="ton ford ley field wood worth by ham well dale ridge more cott bury stead",
    synth_share=0.18,
)

IRISH_SCOTTISH = CultureData(
    key="irish_scottish", share=0.06, languages=(("en", 0.97), ("ga", 0.02), ("gd", 0.01)),
    middle_rate=0.35,
    male="""
Seán Sean Patrick Pádraig Liam Conor Cian Oisín Darragh Cillian Eoin Niall Ciarán Declan
Brendan Colm Fionn Tadhg Rory Ruairí Dónal Donal Eamon Éamonn Fergus Callum Angus Hamish
Alasdair Alistair Ewan Euan Finlay Lachlan Murdo Ross Struan Kieran Shane Aidan Ronan
Cathal Diarmuid Padraic Michael John James Kevin Brian Gerard Dermot Fintan Malachy
Cormac Conall Lorcan Senan Odhrán Ruadhán Donnacha Fiachra Tomás Séamus Seamus Ciaran
Duncan Gregor Hector Iain Ian Neil Kenneth Fraser Craig Scott Blair Graeme Gordon Douglas
""",
    female="""
Aoife Siobhán Siobhan Saoirse Niamh Ciara Caoimhe Róisín Orla Aisling Clodagh Gráinne Sinéad
Sinead Máire Bríd Eimear Áine Deirdre Fionnuala Maeve Méabh Mairead Sorcha Catriona
Eilidh Isla Morag Kirsty Mhairi Ailsa Shona Iona Mary Bridget Kathleen Margaret Eileen
Noreen Maura Nuala Úna Oonagh Ríona Ailbhe Sadhbh Muireann Éabha Clíodhna Blathnaid
Fiona Heather Rhona Elspeth Isobel Senga Jean Agnes Effie Lorna Marion Kirstin
""",
    surnames="""
Murphy Kelly O'Brien O'Connor Walsh Byrne Ryan O'Sullivan O'Neill Doyle McCarthy Gallagher
O'Doherty Kennedy Lynch Murray Quinn Moore McLaughlin O'Carroll Connolly Daly O'Connell
Dunne Brennan Burke Collins Campbell Clarke Johnston Hughes O'Farrell Fitzgerald Maguire
Nolan Flynn O'Callaghan O'Donnell Duffy O'Mahony Boyle Healy O'Shea Sweeney Hayes Kavanagh
Power McGrath Moran Brady Casey Foley Fitzpatrick O'Leary McDonnell McMahon MacMahon
Donnelly Regan Donovan Burns Flanagan Mullan Barry Kane Cunningham Griffin Kenny Sheehan
Whelan Lyons Reid Graham Higgins Cullen Keane Maher McKenna Scott Hogan O'Keeffe Magee
McNamara MacDonald McDonald Macdonald MacLeod McLeod Mackenzie McKenzie MacKay Mackay
Fraser Ross Robertson Cameron Sinclair Munro Grant Douglas Gordon MacGregor McGregor
Buchanan Ferguson Kerr Craig Hamilton Paterson Henderson Johnstone Stewart Stuart Wallace
Sutherland Macintyre MacIntyre McIntyre Mackintosh McIntosh MacLean McLean Maclean
MacKinnon McKinnon MacPherson McPherson MacAulay Macaulay MacNeil McNeill MacDougall
McDougall MacFarlane McFarlane Gillespie Lamont Menzies Urquhart Farquharson Drummond
Dalgleish Kirkpatrick Crichton Galbraith Rafferty Flaherty O'Flaherty Keogh Geraghty
Fahy Nugent Tierney Mulligan Corcoran Hennessy Dolan Hegarty Mooney Dwyer O'Dwyer Ahern
Egan Lennon Toner Devlin McGuinness Kearney Sheridan Costello Fay Madden Coughlan Cahill
Phelan Carey Molloy Moloney Hanlon Hurley Doherty Donohue Gormley Harkin Kinsella
Mac_Giolla_Phádraig Ó_Súilleabháin Ó_Briain Mac_Cárthaigh
""",
    synth_roots="""
Aulay Bride Cabe Cann Caffrey Cormack Crea Dermott Donagh Dowell Elroy Ewan Fadden Gill
Ginley Gowan Guire Hugh Intyre Kay Keown Kinnon Lean Loughlin Manus Millan Nab Nally
Namara Phail Quade Rae Shane Sorley Tavish Ilroy Alister Crae Culloch Gilvray Queen
""",
    synth_suffixes="Mac Mc",
    synth_share=0.12,
)

GERMAN = CultureData(
    key="german", share=0.07, languages=(("de", 0.55), ("en", 0.45)), middle_rate=0.2,
    male="""
Peter Michael Thomas Andreas Wolfgang Klaus Jürgen Stefan Christian Uwe Werner Hans
Frank Bernd Matthias Markus Helmut Gerhard Heinz Alexander Martin Dieter Sven Jan Jörg
Günter Manfred Horst Ralf Daniel Tobias Florian Sebastian Dirk Lukas Leon Jonas Felix
Maximilian Paul Finn Elias Luca Niklas Julian Moritz Tim Fabian Philipp Johannes
Friedrich Karl Heinrich Wilhelm Ernst Otto Rudolf Walter Kurt Siegfried Volker Rainer
Holger Torsten Kai Lars Björn Jens Henning Ulrich Detlef Hartmut Lothar Reinhard Norbert
Gunther Gottfried Ludwig Konrad Benedikt Valentin Emil Anton Jakob Ben Noah Henri
""",
    female="""
Ursula Monika Petra Sabine Renate Helga Karin Brigitte Ingrid Erika Andrea Gisela Claudia
Susanne Gabriele Christa Birgit Christine Elke Marion Anja Heike Stefanie Nicole Katrin
Julia Anna Lena Laura Lea Sarah Hannah Sophie Marie Emma Mia Lina Emilia Johanna Clara
Charlotte Luise Greta Frieda Mathilda Ida Paula Leonie Jana Nina Jessica Melanie Sandra
Tanja Silke Doris Waltraud Hildegard Gertrud Irmgard Elfriede Edeltraud Annelie Anneliese
Liselotte Margarete Dorothea Friederike Wiebke Maren Imke Frauke Antje Dörte Jutta Bärbel
Käthe Hedwig Rosemarie Ilse Inge Angelika Cornelia Manuela Simone Yvonne Kerstin Ines
""",
    surnames="""
Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch
Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann
Lange Schmitt Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann
König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert
Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke
Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger
Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn
Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff Pfeiffer Mayr Meister
Schmitz Weiss Gross Mueller Schaefer Koenig Moeller Krueger Boehm Kuehn Schroeder Goetz
Götz Lenz Ernst Hermann Walther Brandl Sturm Kellner Riedel Zimmer Ott Hauser Wittmann
Fink Kunz Lutz Beyer Seifert Kirchner Michel Wendt Kramer Hoffman Katz Kats Kaplan
Rosenberg Goldberg Weinberg Rosenthal Lindner Fiedler Marx Schott Thiele Böttcher Heinz
Reuter Schreiner Stahl Böhme Ebert Nagel Brenner Ritter Ulrich Busse Dörr Schütz
Eichhorn Pfeifer Heller Hoppe Gerlach Kolb Hübner Funk Hein Raab Wirth Ahrens Kessler
Petersen Jansen Hansen Thiel Martens Paulsen Claussen Frenzel Zander Ackermann Baum
""",
    synth_roots="""
Acker Bach Baum Berg Birn Blum Brand Brunn Eich Eisen Feld Fisch Gold Grün Hart Hein
Hirsch Hoch Hof Holz Kirch Klein Kron Lang Lind Mittel Neu Ober Ros Schön Stein Sonn Wald
Weiß Wein Wiesen Wolf Zimmer Stern Rot Klee Bruck Dorn
""",
    synth_suffixes="mann er berg feld bach hof hauer huber meier inger stein thal",
    synth_share=0.2,
)

SPANISH = CultureData(
    key="spanish", share=0.1, languages=(("es", 0.6), ("en", 0.4)), middle_rate=0.15,
    surname_offset=10.0,
    male="""
José Juan Luis Carlos Jorge Miguel Antonio Francisco Manuel Jesús Pedro Javier Alejandro
Fernando Ricardo Roberto Eduardo Daniel Diego Rafael Sergio Pablo Andrés Raúl Alberto
Enrique Héctor Mario Óscar Arturo Víctor Hugo Julio Gabriel Ramón Rubén Martín Ángel
Mateo Santiago Sebastián Matías Nicolás Samuel Emiliano Leonardo Joaquín Tomás Lucas Adrián
Álvaro Iván Ignacio Gonzalo Marcos Rodrigo Guillermo Alfonso Salvador Gustavo Armando
Ernesto Felipe Agustín Esteban Cristian Emilio Jaime Ricardo Orlando Rogelio Alfredo
Juan_Carlos José_Luis Juan_Pablo José_Antonio Luis_Miguel Jose Jesus Angel Oscar Raul
Ruben Victor Hector Andres Sebastian Matias Nicolas Joaquin Adrian Alvaro Ivan Agustin
""",
    female="""
María Carmen Ana Laura Isabel Lucía Sofía Valentina Camila Gabriela Daniela Fernanda
Andrea Paula Marta Elena Rosa Teresa Patricia Claudia Verónica Adriana Alejandra Mariana
Natalia Carolina Beatriz Cristina Silvia Mónica Pilar Dolores Concepción Josefa Francisca
Antonia Guadalupe Margarita Juana Raquel Sara Irene Alba Noelia Lorena Rocío Nuria Inés
Victoria Ximena Regina Renata Valeria Martina Jimena Paola Diana Leticia Yolanda Esperanza
Gloria Rebeca Miriam Lourdes Araceli Alicia Catalina Luciana Emilia Abril Julieta Florencia
María_José María_del_Carmen Ana_María María_Isabel María_Fernanda Maria Lucia Sofia
Veronica Monica Rocio Ines
""",
    surnames="""
García:4 Rodríguez:3.5 Martínez:3.2 Hernández:3.1 López:3 González:3 Pérez:2.4 Sánchez:2.4
Ramírez:1.6 Torres:1.5 Flores:1.4 Rivera:1.3 Gómez:1.3 Díaz:1.3 Reyes Morales Cruz Ortiz
Gutiérrez Chávez Ramos Ruiz Jiménez Álvarez Moreno Romero Alvarez Mendoza Vásquez Castillo
Vargas Castro Herrera Medina Aguilar Fernández Guzmán Muñoz Muñiz Méndez Salazar Soto
Delgado Peña Rios Ríos Contreras Sandoval Guerrero Estrada Ortega Núñez Vega Figueroa
Domínguez Luna Juárez Campos Cortés Cortez Silva Rojas Navarro Molina Acosta Marín
Fuentes Cabrera Carrillo Espinoza Valdez Maldonado Padilla Cervantes Ibarra Lara Ávila
Velázquez Santiago Santos Miranda Salinas Trujillo Rubio Serrano Blanco Suárez Cano
Prieto Calvo Gallego Vidal León Márquez Garrido Pascual Iglesias Lozano Herrero Montero
Santana Benítez Rosales Orozco Pacheco Villarreal Zamora Valencia Cárdenas Bautista
Cisneros Escobar Galván Montoya Paredes Quintero Solís Trejo Zúñiga Villanueva Arellano
Beltrán Bravo Cordero Duarte Esquivel Franco Godoy Hidalgo Meza Nava Ochoa Pineda Quiroga
Rosario Tapia Urbina Varela Zavala Barrios Bustamante Cuevas Olivares Pizarro Sepúlveda
Garcia Rodriguez Martinez Hernandez Lopez Gonzalez Perez Sanchez Ramirez Diaz Gutierrez
Chavez Jimenez Vasquez Fernandez Guzman Munoz Mendez Pena Nunez Dominguez Juarez Cortes
De_la_Cruz De_la_Torre Del_Río Del_Valle De_León San_Martín Villa-Lobos
""",
)

FRENCH = CultureData(
    key="french", share=0.05, languages=(("fr", 0.6), ("en", 0.4)), middle_rate=0.3,
    male="""
Jean Pierre Michel André Philippe Alain Jacques Bernard Patrick Daniel Christian Nicolas
Éric Eric Frédéric Laurent Stéphane Pascal David Julien Christophe Olivier Thierry
Sébastien Vincent François Guillaume Antoine Maxime Thomas Alexandre Romain Mathieu
Gabriel Louis Raphaël Jules Arthur Hugo Lucas Léo Adam Nathan Théo Noé Paul Ethan Mathis
Baptiste Clément Quentin Benoît Gilles Hervé Didier Denis Dominique Yves Marcel Gérard
René Claude Roger Henri Luc Lucien Émile Étienne Fabrice Franck Jérôme Lionel Loïc
Mickaël Cédric Arnaud Aurélien Bastien Florian Jean-Pierre Jean-Luc Jean-Claude Jean-Marc
Jean-François Jean-Paul
""",
    female="""
Marie Nathalie Isabelle Sylvie Catherine Françoise Martine Christine Monique Valérie
Sandrine Sophie Stéphanie Nicole Céline Véronique Chantal Anne Julie Aurélie Camille
Émilie Caroline Brigitte Jacqueline Hélène Dominique Claire Patricia Élodie Laure Léa
Manon Chloé Emma Jade Louise Alice Lina Rose Anna Mila Inès Ambre Juliette Zoé Léna
Margaux Mathilde Pauline Lucie Océane Clémence Charlotte Élise Agathe Capucine Éloïse
Geneviève Simone Yvette Colette Ginette Madeleine Thérèse Odette Josette Danielle
Marie-Claude Marie-Christine Anne-Marie Marie-Hélène Marie-Pierre Marie-France Solène
Maëlle Gaëlle Noémie Ophélie Bérénice Apolline Margot Héloïse Joséphine
""",
    surnames="""
Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel
Lefebvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine
Rousseau Vincent Muller Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier
François Legrand Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu
Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun
Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche
Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud
Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq
Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis Moulin
Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier
Marty Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly
Hervé Schneider Fernandez Le_Gall Collet Léger Bouvier Julien Prévost Millet Perrot
Daniel Le_Roux Cousin Germain Breton Besson Langlois Rémy Le_Goff Pelletier Lévêque Perrier
Leblanc Barré Lebrun Marchal Weber Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez
Guichard Gillet Étienne Grondin Poulain Tessier Chevallier Collin Chauvin Da_Silva Bouchet
Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret Barthélemy Cordier
Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte Gagnon Tremblay Côté
Bouchard Gauthier Ouellet Lévesque Bélanger Bergeron Leblanc Paquette Girard Pelletier
D'Arcy D'Aubigné D'Amour Saint-Pierre Saint-Jean Beaulieu Desjardins Lafleur
""",
    synth_roots="Beau Bel Bon Bois Chant Clair Dur Font Gran Lac Mar Mont Pré Roche Ros Val Vill",
    synth_suffixes="mont champ fort val lieu court ville pré ier eau in et",
    synth_share=0.1,
)

ITALIAN = CultureData(
    key="italian", share=0.05, languages=(("it", 0.45), ("en", 0.55)), middle_rate=0.2,
    male="""
Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Vincenzo Pietro Salvatore Carlo
Franco Domenico Bruno Paolo Michele Giorgio Aldo Sergio Luciano Marco Andrea Alessandro
Stefano Roberto Massimo Luca Matteo Lorenzo Leonardo Gabriele Riccardo Tommaso Edoardo
Federico Davide Simone Emanuele Daniele Fabio Claudio Maurizio Enrico Alberto Giorgio
Nicola Raffaele Gennaro Ciro Rocco Carmine Pasquale Alfredo Umberto Renato Gianni Dario
Filippo Cristian Emilio Ettore Vittorio Ugo Silvio Piero Gianluca Gianfranco Pierluigi
Giancarlo Nunzio Sabatino Cosimo Calogero Gaetano Corrado Mattia Diego Samuele
""",
    female="""
Maria Anna Giuseppina Rosa Angela Giovanna Teresa Lucia Carmela Caterina Francesca
Antonietta Carla Elena Concetta Rita Margherita Franca Paola Giulia Sofia Aurora Alice
Ginevra Emma Giorgia Greta Beatrice Chiara Martina Sara Valentina Federica Alessandra
Silvia Laura Roberta Elisa Claudia Monica Cristina Simona Barbara Daniela Patrizia
Raffaella Assunta Annunziata Filomena Immacolata Addolorata Carmelina Graziella Loredana
Gabriella Rosalba Donatella Ornella Mirella Luisa Serena Ilaria Arianna Noemi Camilla
Vittoria Bianca Ludovica Matilde Rebecca Benedetta Nicoletta Antonella Marisa Rosaria
""",
    surnames="""
Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti
De_Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani
Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra
Coppola De_Santis D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco
Marini Grasso Valentini Messina Sala De_Angelis Gatti Pellegrini Palumbo Sanna Farina
Rizzi Monti Cattaneo Morelli Amato Silvestri Mazza Testa Grassi Pellegrino Carbone
Giuliani Benedetti Barone Rossetti Caputo Montanari Guerra Palmieri Bernardi Martino
Fiore De_Rosa Ferretti Bellini Basile Riva Donati Piras Vitali Battaglia Sartori Neri
Costantini Milani Pagano Ruggiero Sorrentino D'Amico Orlando Damico Negri Dell'Acqua
Dell'Orto D'Alessandro D'Onofrio Di_Stefano Di_Giovanni Di_Pietro Lo_Russo La_Rosa
Cirillo Castelli Bassi Ventura Ricciardi Marchi Bertolini Pace Sorrentino Romeo Zanetti
Ferrante Calabrese Guidi Mele Fumagalli Cristiani Fiorentino Napolitano Siciliano
Genovese Veneziano Tedesco Milanesi Borrelli Scognamiglio Iannone Iacobelli Esposto
""",
    synth_roots="""
Bel Bianc Bon Buon Cald Cap Carbon Cast Cerv Coll Cost Fabbr Ferr Fior Gall Gentil Grass
Lomb Lucch Mancin Marin Mont Morell Pagan Pellegr Ross Russ Sant Serr Spin Torr Vitt
""",
    synth_suffixes="i o ini elli etti one ucci ari ato ese",
    synth_share=0.15,
)

POLISH = CultureData(
    key="polish", share=0.04, languages=(("pl", 0.6), ("en", 0.4)), middle_rate=0.1,
    male="""
Piotr Krzysztof Andrzej Tomasz Paweł Jan Michał Marcin Marek Grzegorz Józef Łukasz Adam
Zbigniew Jerzy Tadeusz Mateusz Dariusz Mariusz Wojciech Ryszard Jakub Henryk Robert
Rafał Kazimierz Jacek Maciej Kamil Janusz Szymon Bartosz Stanisław Przemysław Sebastian
Dawid Damian Wiesław Mirosław Sławomir Bogdan Czesław Leszek Waldemar Zdzisław Artur
Patryk Filip Antoni Aleksander Franciszek Wiktor Igor Oskar Hubert Kacper Dominik Konrad
Witold Bolesław Edward Roman Eugeniusz Mieczysław Wacław Zygmunt Lech Jarosław Ireneusz
""",
    female="""
Anna Maria Katarzyna Małgorzata Agnieszka Krystyna Barbara Ewa Elżbieta Zofia Janina
Teresa Joanna Magdalena Monika Jadwiga Danuta Irena Halina Helena Beata Aleksandra Marta
Dorota Marianna Grażyna Jolanta Stanisława Iwona Karolina Bożena Urszula Justyna Renata
Alicja Paulina Sylwia Natalia Wanda Agata Aneta Izabela Ewelina Zuzanna Wiktoria Julia
Maja Hanna Lena Oliwia Amelia Pola Jagoda Weronika Gabriela Kinga Edyta Genowefa
Wiesława Bogumiła Czesława Mirosława Grzegorzówna Leokadia Kazimiera Łucja Władysława
""",
    surnames="""
Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański
Woźniak Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek
Piotrowski Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel
Nowakowski Majewski Olszewski Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak
Górski Witkowski Walczak Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski
Pietrzak Zalewski Wróblewski Marciniak Jasiński Zawadzki Bąk Jakubowski Sadowski Duda
Włodarczyk Wilk Chmielewski Borkowski Sokołowski Szczepański Sawicki Lis Kucharski
Kalinowski Wysocki Mazurek Kubiak Maciejewski Czarnecki Kołodziej Urbański Kaźmierczak
Sobczak Konieczny Głowacki Zakrzewski Krajewski Krupa Laskowski Ziółkowski Gajewski
Szulc Mróz Brzeziński Makowski Przybylski Kaczmarczyk Borowski Czerwiński Sikorski
Wojcik Wozniak Dabrowski Kozlowski Zielinski Lukaszewski Łukaszewicz Grzybowski Kowalewski
""",
    synth_roots="""
Adam Bart Bogus Chmiel Dobr Grab Jak Kalin Kozł Lip Mak Mal Mik Now Olsz Pawł Pietr
Rak Sad Sok Stan Wasil Wit Woj Zar Bor Dąbr Gaj Kras Kubi Marc Mił Ost Rud Sław Trzc
""",
    synth_suffixes="owski ewski iński icki ecki ak czyk iak",
    synth_share=0.2,
)

VIETNAMESE = CultureData(
    key="vietnamese", share=0.02, languages=(("vi", 0.55), ("en", 0.45)), middle_rate=0.8,
    male="""
Minh Hùng Tuấn Dũng Nam Hải Long Quang Thành Phong Huy Đức Khánh Trung Hoàng Anh Bảo
Việt Sơn Thắng Tùng Cường Hiếu Lâm Phúc Tài Thịnh Vinh Hưng Khoa Đạt Duy Tâm Tiến
Nghĩa Trí Toàn Hòa Hậu Quân Kiên Lộc Lợi Phát Sang Thiện Tín Vũ Khang Nhân An
""",
    female="""
Lan Hương Linh Mai Anh Trang Hoa Ngọc Thảo Hà Huyền Thu Hằng Nga Phương Thủy Yến Dung
Loan Tâm Hạnh Nhung Vy Trâm Uyên Quỳnh Diệp Giang Hồng Liên Ly My Nhi Oanh Tuyết Xuân
Châu Diễm Hiền Khánh Ngân Nhàn Tiên Trinh Vân Bích Cúc Đào Hậu Kim
""",
    surnames="""
Nguyễn:38 Trần:11 Lê:9.5 Phạm:7.1 Hoàng:5.1 Huỳnh:4 Phan:4.5 Vũ:3.9 Võ:3.5 Đặng:2.1
Bùi:2 Đỗ:1.4 Hồ:1.3 Ngô:1.3 Dương:1 Lý:0.5 Đinh Đoàn Trịnh Lâm Mai Tô Trương Lưu Hà
Quách Cao Tạ Thái Châu Chu Vương Lương Kiều La Phùng Tăng Văn Lục Từ Thân Triệu Diệp
""",
    surname_offset=4.0,
)

CHINESE = CultureData(
    key="chinese", share=0.04, languages=(("zh", 0.5), ("yue", 0.15), ("en", 0.35)),
    middle_rate=0.0,
    male="""
Wei Qiang Lei Jun Yong Jie Tao Ming Chao Gang Ping Hui Peng Hao Jian Bin Bo Feng Hai Hong
Xiaoming Zhiwei Jianguo Haoran Yuxuan Zihan Yichen Jiahao Junjie Kaiwen Zhihao Wenjie
Zhiqiang Jianhua Guoqiang Dong Liang Xin Yang Yu Zhen Kang Long Cheng Rui Zhiyuan
Zixuan Haoyu Yuhang Ruiqi Jinhai Shaoming Wing Kwok-Wai Chi-Keung Ka-Ho
""",
    female="""
Fang Xiuying Na Min Jing Li Yan Juan Xia Ting Xue Ling Hui Ying Xinyi Yutong Meiling
Xiaoyan Lijuan Yuqi Shuang Qian Jiayi Ruoxi Yan Hong Mei Lan Hua Yun Jie Qing Xiaohong
Guiying Xiulan Yufen Yumei Shu Wen Zihan Siyu Yuxin Mengyao Yiran Wai-Ling Mei-Ling
Siu-Ming Man-Yee
""",
    surnames="""
Wang:7.4 Li:7.3 Zhang:7 Liu:5.4 Chen:4.5 Yang:3.1 Huang:2.3 Zhao:2.3 Wu:2.1 Zhou:2
Xu:1.7 Sun:1.5 Ma:1.4 Zhu:1.3 Hu:1.2 Guo:1.1 He:1 Gao:1 Lin:1 Luo:0.9 Zheng:0.9 Liang:0.8
Xie Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye
Cheng Wei Su Lu Ding Ren Shen Yao Jin Fu Zhong Cui Tan Lü Fan Wan Qiu Qin Jia Xue Yan
Dai Mo Kong Bai Hou Meng Long Duan Lei Qian Tao Shi Mao Hao Gu Gong Shao Wan Kang Yin
Chan Wong Lee Cheung Lau Ho Leung Ng Chow Yip Tsang Kwok Lam Tse Fong Chiu Tang Yeung
Mak Choi Kwan Chau Tam Siu Lo Chung Kong Wu Hui Poon Au Man
""",
    surname_offset=3.0,
)

# Chinese names written in Hanzi for some patients (simplified characters).
SURNAME_HANZI: dict[str, str] = {
    "Wang": "王", "Li": "李", "Zhang": "张", "Liu": "刘", "Chen": "陈", "Yang": "杨",
    "Huang": "黄", "Zhao": "赵", "Wu": "吴", "Zhou": "周", "Xu": "徐", "Sun": "孙", "Ma": "马",
    "Zhu": "朱", "Hu": "胡", "Guo": "郭", "He": "何", "Gao": "高", "Lin": "林", "Luo": "罗",
    "Zheng": "郑", "Liang": "梁", "Xie": "谢", "Song": "宋", "Tang": "唐", "Han": "韩",
    "Feng": "冯", "Deng": "邓", "Cao": "曹", "Peng": "彭", "Zeng": "曾", "Xiao": "肖",
    "Tian": "田", "Dong": "董", "Pan": "潘", "Yuan": "袁", "Cai": "蔡", "Jiang": "蒋",
}
GIVEN_HANZI: dict[str, str] = {
    "Fang": "芳", "Xiuying": "秀英", "Na": "娜", "Min": "敏", "Jing": "静", "Yan": "艳",
    "Juan": "娟", "Xia": "霞", "Ting": "婷", "Xue": "雪", "Ling": "玲", "Ying": "颖",
    "Mei": "梅", "Lan": "兰", "Hua": "华", "Xiulan": "秀兰", "Guiying": "桂英",
    "Lijuan": "丽娟", "Xinyi": "欣怡", "Yutong": "雨桐",
    "Wei": "伟", "Qiang": "强", "Lei": "磊", "Jun": "军", "Yong": "勇", "Jie": "杰",
    "Tao": "涛", "Ming": "明", "Chao": "超", "Gang": "刚", "Ping": "平", "Hui": "辉",
    "Peng": "鹏", "Hao": "浩", "Jianguo": "建国", "Zhiwei": "志伟", "Haoran": "浩然",
    "Yuxuan": "宇轩", "Jianhua": "建华", "Xiaoming": "晓明",
}

RUSSIAN = CultureData(
    key="russian", share=0.04, languages=(("ru", 0.6), ("uk", 0.05), ("en", 0.35)),
    middle_rate=0.6,
    male="""
Александр Сергей Дмитрий Андрей Алексей Максим Евгений Иван Михаил Николай Владимир
Артём Денис Павел Роман Игорь Олег Виктор Юрий Никита Илья Кирилл Антон Константин
Владислав Егор Матвей Тимофей Даниил Григорий Борис Леонид Анатолий Валерий Геннадий
Вячеслав Станислав Руслан Вадим Фёдор Пётр Степан Тимур Глеб Ярослав Лев Марк Богдан
Василий Виталий Эдуард Аркадий Семён Филипп Георгий Захар Арсений Савелий
""",
    female="""
Елена Ольга Наталья Татьяна Ирина Светлана Анна Мария Екатерина Юлия Марина Анастасия
Людмила Галина Валентина Надежда Дарья Ксения Виктория Алина Полина Софья Алиса
Вероника Евгения Кристина Любовь Лариса Нина Тамара Зоя Вера Лидия Раиса Алла Жанна
Оксана Инна Яна Диана Милана Ева Варвара Арина Василиса Ульяна Таисия Маргарита Элина
""",
    surnames="""
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов
Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв
Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов
Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов
Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков
Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков
Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов
Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин
Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников
Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов
Гришин Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев
Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов
Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронов Аксёнов
Софронов Мальцев Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Сафонов
Плотников Дёмин Хохлов Жданов Носов Некрасов Шубин Ершов Зуев Блинов Лаптев Соломин
Шевченко Бондаренко Коваленко Ткаченко Кравченко Олейник Мельник Савченко Руденко
Достоевский Чайковский Покровский Вознесенский Успенский Преображенский Троицкий
Толстой Донской Трубецкой Черных Белых Седых
""",
    synth_roots="""
Бел Бор Вол Гор Гром Дуб Жук Зим Кар Клим Кол Крас Круг Лес Лип Луг Мал Мох Нос Пес Рыб
Сед Сем Сок Степ Тих Топ Хол Чер Щук Ябл Бобр Ворон Гусл Дрозд Ерш Квас Лебяж Мед
""",
    synth_suffixes="ов ев ин ский ищев анов",
    synth_share=0.15,
)

ARABIC = CultureData(
    key="arabic", share=0.04, languages=(("ar", 0.6), ("en", 0.4)), middle_rate=0.3,
    male="""
Mohammed:8 Muhammad:5 Mohamed:4 Mohammad:3 Muhammed:1 Mohamad:1 Ahmed Ahmad Ali Omar
Umar Hassan Hasan Hussein Husain Hussain Ibrahim Youssef Yousef Yusuf Khaled Khalid
Abdullah Abdallah Mahmoud Mahmud Mustafa Mostafa Tariq Tarek Karim Kareem Samir Sami
Walid Waleed Adel Adil Nabil Fadi Rami Ziad Ziyad Bilal Hamza Amir Ameer Yasser Yasir
Majid Maged Faisal Fahad Fahd Saeed Said Salem Salim Nasser Naser Jamal Gamal Anas Ayman
Bashir Osama Usama Hisham Imad Emad Marwan Rashid Rashed Sultan Talal Zaid Zayed Abdulrahman
Abdelaziz Abdulaziz Abdel_Rahman Hamid Hamed Kamal Mazen Nizar Qasim Riyad Sharif Suleiman
""",
    female="""
Fatima Fatimah Aisha Aysha Maryam Mariam Noor Nour Layla Leila Laila Sara Sarah Zainab
Zeinab Khadija Khadijah Amina Aminah Huda Hoda Rania Rana Dina Dana Lina Reem Rim Salma
Yasmin Yasmine Jasmin Hana Hanan Nadia Nadiya Samira Samia Samar Mona Muna Noura Nora
Asma Alia Aaliyah Ghada Heba Hiba Iman Eman Jamila Lamia Latifa Lubna Maha Malak Manal
Nawal Rasha Rawan Ruqayya Safa Sawsan Shaima Suha Wafa Widad Yara Zahra Zahraa Zeina
""",
    surnames="""
Al-Sayed Hassan Hussein Ali Ahmed Abdullah Ibrahim Mahmoud Mohamed Mohammed Khalil Haddad
Mansour Nasser Saleh Salem Youssef Hamdan Hamad Suleiman Othman Osman Khoury Haddad Saad
Aziz Farah Awad Jaber Kassem Qasim Darwish Mustafa Abbas Said Rahman Karim Nassar Bakr
Abu-Bakr Abu_Zaid Abdel-Aziz Abdelrahman Al_Hashimi El-Sayed El_Sayed Elsayed El-Masri
Al-Masri Masri Al-Amin El-Amin Amin Al-Khatib Khatib Al_Farsi Al-Najjar Najjar Sabbagh
Shaheen Shahin Hijazi Tawfik Tawfiq Zidan Zaidan Ghanem Sharif Sherif Al-Rashid Rashid
Al-Tamimi Tamimi Al-Qahtani Al-Otaibi Al-Ghamdi Al-Zahrani Al-Harbi Al-Mutairi
Al-Shammari Al-Dosari Al-Anazi Al-Subaie Al-Kuwari Al-Hamadi Al-Khalidi Khalidi
""",
    synth_roots="""
Amin Ansari Attar Awad Azzam Bakri Baghdadi Darwish Fayed Habib Hakim Halabi Hashimi
Jaber Kabir Maliki Qasim Rashid Saadi Shami Sharif Zein Hamdi Jazairi Tunisi Maghribi
""",
    synth_suffixes="Al- Al_ El- none",
    synth_share=0.25,
)

INDIAN = CultureData(
    key="indian", share=0.05,
    languages=(("hi", 0.3), ("gu", 0.1), ("pa", 0.1), ("ta", 0.08), ("te", 0.07),
               ("bn", 0.05), ("ml", 0.05), ("mr", 0.05), ("en", 0.2)),
    middle_rate=0.15, surname_offset=6.0,
    male="""
Rahul Amit Rajesh Suresh Ramesh Sanjay Vijay Anil Sunil Ajay Arjun Rohan Vikram Ravi
Rakesh Deepak Manoj Ashok Prakash Mahesh Naresh Dinesh Mukesh Ganesh Harish Girish
Aditya Akash Ankit Anand Arun Ashish Gaurav Hari Karan Krishna Kunal Mohan Nikhil Nitin
Pankaj Pradeep Rajiv Sachin Sandeep Sameer Sanjeev Saurabh Shankar Shiva Siddharth
Srinivas Sunil Varun Vinod Vishal Vivek Yash Aarav Vihaan Vivaan Ayaan Reyansh Ishaan
Kabir Dhruv Arnav Rudra Harpreet Gurpreet Manpreet Jaspreet Harjit Balwinder Sukhwinder
Venkatesh Subramanian Raghavan Karthik Senthil Murali Balaji Mohammed Imran Irfan Salman
""",
    female="""
Priya Pooja Anjali Neha Sunita Anita Kavita Geeta Sita Lakshmi Meena Rekha Seema Asha
Usha Nisha Deepa Divya Shreya Sneha Swati Shweta Aarti Anu Radha Rani Savita Sushma
Jyoti Manisha Poonam Preeti Ritu Sapna Shalini Sonia Suman Vandana Aditi Ananya Diya
Ishita Kavya Riya Saanvi Aanya Aadhya Myra Sara Ira Anika Harpreet Gurpreet Manpreet
Jaspreet Simran Navneet Kiran Parminder Harleen Padma Revathi Saranya Lakshmi Meenakshi
Vidya Gayathri Bhavani Kamala Indira Nirmala Shanthi Fatima Ayesha Nazia Farah Rukhsana
""",
    surnames="""
Patel:7 Singh:6 Kumar:5 Sharma:4 Shah:3 Kaur:2.5 Gupta:2 Reddy Rao Iyer Nair Menon Desai
Joshi Mehta Chopra Kapoor Malhotra Agarwal Agrawal Banerjee Chatterjee Mukherjee Das Bose
Pillai Krishnan Verma Yadav Jain Bhat Bhatt Kulkarni Naidu Chaudhary Choudhury Chaudhry
Mishra Pandey Tiwari Trivedi Dubey Saxena Srivastava Sinha Thakur Rajput Chauhan Rathore
Sethi Arora Bhatia Khanna Grewal Sandhu Sidhu Gill Dhillon Brar Bains Mann Virk Cheema
Ahluwalia Walia Anand Bajaj Goyal Goel Mittal Bansal Garg Singhal Jindal Khurana Luthra
Nayar Narayanan Subramaniam Venkatesan Ramachandran Gopalan Natarajan Raghunathan
Sundaram Srinivasan Balasubramanian Chandrasekhar Hegde Shetty Kamath Pai Prabhu Shenoy
Dutta Ghosh Sen Sengupta Roy Mukhopadhyay Bhattacharya Chakraborty Ganguly Majumdar
Patil Pawar Jadhav Shinde Deshmukh Gaikwad Kale More Sawant Rane Naik Dalal Parekh Vora
Bhagat Solanki Parmar Chavda Makwana Rathod Panchal Prajapati Modi Thakkar Kothari
Khan Ansari Qureshi Siddiqui Sheikh Shaikh Syed Mirza Pathan Hussain
""",
)

NIGERIAN = CultureData(
    key="nigerian", share=0.03, languages=(("en", 0.6), ("yo", 0.2), ("ig", 0.12), ("ha", 0.08)),
    middle_rate=0.45,
    male="""
Chinedu Emeka Obinna Ifeanyi Chidi Chukwuemeka Nnamdi Uchenna Ikechukwu Kelechi Chibuike
Oluwaseun Babatunde Olumide Adebayo Adewale Oluwafemi Femi Tunde Kunle Segun Olusegun
Ayodele Ayomide Damilola Temitope Oluwatobi Tobi Kayode Kehinde Taiwo Akin Dapo Gbenga
Biodun Yinka Rotimi Wale Dele Bola Sola Muhammad Abubakar Usman Ibrahim Aliyu Sani Musa
Yusuf Bello Garba Lawal Abdullahi Haruna Suleiman Emmanuel Samuel Daniel David Joseph
Michael John Peter Paul Victor Godwin Sunday Friday Blessing Goodluck Innocent Felix
Chijioke Somtochukwu Ebuka Tochukwu Ugochukwu Kenechukwu Onyekachi Ekene Kamsi
""",
    female="""
Chiamaka Ngozi Adaeze Nkechi Chioma Amaka Uchechi Ebere Ifeoma Chinonso Chidinma Adanna
Nneka Obiageli Oluwakemi Funmilayo Folake Yetunde Adebola Bukola Titilayo Temitope Tolani
Omolara Oluwadamilare Morenike Abimbola Adenike Modupe Olamide Ronke Bisi Kemi Tope Yemi
Aisha Fatima Hauwa Zainab Amina Hadiza Halima Maryam Rukayat Blessing Grace Joy Mercy
Patience Faith Peace Esther Ruth Deborah Comfort Precious Favour Gift Chinwe Ogechi
Nkiruka Somadina Ginika Kosisochukwu Ifunanya Uju Oyinkansola Ireti Eniola Simisola
""",
    surnames="""
Okafor Okeke Nwosu Eze Obi Okonkwo Nwachukwu Chukwu Onyeka Ibekwe Okoro Anyanwu Ezeh
Nwankwo Okoye Uzor Onuoha Agu Ugwu Igwe Nwafor Ogbonna Okonjo Achebe Adichie Iwobi
Adeyemi Adebayo Ogunleye Olawale Adewale Afolabi Ogunbiyi Balogun Bakare Akinola Ojo
Ogundipe Oladipo Adeleke Adeniyi Ogunbanjo Oyelaran Fashola Fasanya Olaniyan Oyebanji
Babatunde Oyewole Adesanya Akinwande Olatunji Ayodele Adekunle Oluwole Adegoke Ajayi
Oyedepo Oyelowo Obasanjo Awolowo Soyinka Ogunlesi Makinde Alabi Salami Lawal Bello
Abubakar Musa Usman Sani Garba Aliyu Danjuma Dangote Yakubu Suleiman Umar Idris Abdullahi
Mohammed Ibrahim Yusuf Adamu Bala Tanko Hassan Okon Effiong Etim Bassey Udoh Akpan Essien
""",
    synth_roots="Ade Ola Olu Ayo Ogun Akin Oye Fola Oni Afo Aji Ife Oso Ode Ojo",
    synth_suffixes="yemi wale bayo labi tunde kunle seun yinka mide dele sola leye nuga biyi",
    synth_share=0.3,
)

TURKISH = CultureData(
    key="turkish", share=0.03, languages=(("tr", 0.6), ("ku", 0.05), ("en", 0.35)),
    middle_rate=0.15,
    male="""
Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim İsmail Osman Yusuf Murat Ömer Ramazan
Halil Süleyman Abdullah Mahmut Recep Salih Fatih Kadir Emre Burak Can Cem Kerem Oğuz
Serkan Hakan Kemal Orhan Erkan Volkan Tolga Selim Eren Emir Efe Berat Yiğit Arda Deniz
Barış Cengiz Sinan Tarık Uğur Gökhan Onur Özgür Levent Tuncay Necati Metin Erdal Nihat
Muhammet Yunus Furkan Enes Batuhan Alper Kaan Mert Umut Çağlar Doğan Sabri Şükrü
""",
    female="""
Ayşe Fatma Emine Hatice Zeynep Elif Meryem Şerife Zehra Esra Merve Büşra Özlem Derya Gül
Selin Ece Deniz Sultan Hacer Hülya Leyla Melek Nur Seda Sibel Songül Tuba Yasemin Ebru
Gamze Gizem Aslı Burcu Pınar Cansu Damla Dilek Ceren Irmak Nazlı Yağmur Defne Eylül
Azra Asel Ela Nehir Miray Zümra Hilal Kübra Rabia Sevgi Filiz Gülsüm Nermin Saadet
""",
    surnames="""
Yılmaz:4 Kaya:3 Demir:3 Şahin:2 Çelik:2 Yıldız Yıldırım Öztürk Aydın Özdemir Arslan
Doğan Kılıç Aslan Çetin Kara Koç Kurt Özkan Şimşek Polat Özer Güneş Erdoğan Aktaş
Kaplan Bulut Keskin Tekin Ünal Güler Korkmaz Karakaya Acar Gündoğdu Avcı Taş Sarı
Kocaman Bozkurt Aksoy Uçar Başaran Türk Erdem Uysal Yavuz Sönmez Tuna Çakır Altun
Yalçın Ateş Duman Kahraman Işık Bayram Karaca Eren Coşkun Toprak Akın Sevim Bilgin
Özcan Ekinci Tunç Yüksel Aydemir Gök Çiftçi Kurtuluş Erol Yilmaz Sahin Celik Ozturk
Aydin Ozdemir Dogan Kilic Cetin Koc Ozkan Simsek Gunes Erdogan Aktas
""",
    synth_roots="Ak Kara Öz Yıl Er Ay Gün Tek Şen Bal Can Uz Sarı Demir Çelik Kaya Ata Bay Tan",
    synth_suffixes="soy han türk kan oğlu taş dağ er göz el bay kaya",
    synth_share=0.2,
)

GREEK = CultureData(
    key="greek", share=0.02, languages=(("el", 0.5), ("en", 0.5)), middle_rate=0.15,
    male="""
Georgios Dimitrios Konstantinos Ioannis Nikolaos Panagiotis Vasileios Christos
Athanasios Michail Evangelos Spyridon Angelos Theodoros Stavros Anastasios Emmanouil
Charalampos Ilias Apostolos Petros Sotirios Stylianos Alexandros Andreas Antonios
Kyriakos Pavlos Stefanos Thomas Nektarios Periklis Achilleas Aristotelis Leonidas
Giorgos Nikos Kostas Yannis Dimitris Takis Spyros Manolis Vangelis Babis
""",
    female="""
Maria Eleni Aikaterini Vasiliki Sofia Angeliki Georgia Dimitra Konstantina Paraskevi
Anastasia Christina Ioanna Eirini Despoina Panagiota Evangelia Athanasia Kalliopi
Chrysoula Theodora Stavroula Alexandra Efthymia Magdalini Zoi Ourania Fotini Antonia
Katerina Eleftheria Olga Penelope Niki Dafni Ariadni Marina Stella Xanthi
""",
    surnames="""
Papadopoulos Papadakis Papageorgiou Oikonomou Georgiou Papadimitriou Pappas Vasileiou
Nikolaidis Karagiannis Konstantinidis Dimitriou Ioannidis Makris Christodoulou
Athanasiou Alexiou Georgiadis Antoniou Michailidis Papanikolaou Theodorou Ioannou
Angelopoulos Nikolaou Economou Karalis Vlachos Petridis Kostopoulos Anagnostopoulos
Stavropoulos Triantafyllou Papathanasiou Chatzidakis Kyriakidis Lambropoulos Mavridis
Panagiotopoulos Pavlidis Sarris Spanos Tsakiris Zervas Manolis Galanis Diamantis
""",
    synth_roots="""
Alexandr Anagnost Andr Angel Antoni Christ Dimitr Georgi Ioann Kanell Karamanl Konstant
Kyriak Lamb Makr Mavr Micha Nikol Oikonom Pant Petr Sarr Stavr Theodor Vasil Vlach Zach
""",
    synth_suffixes="opoulos idis akis atos iadis",
    synth_share=0.35,
)

JAPANESE = CultureData(
    key="japanese", share=0.02, languages=(("ja", 0.55), ("en", 0.45)), middle_rate=0.0,
    male="""
Hiroshi Takashi Kenji Yuki Daiki Haruto Sota Yuto Ren Riku Kaito Takumi Shota Kenta Akira
Kazuki Ryota Makoto Tatsuya Naoki Hiroki Yusuke Daisuke Kazuya Takuya Shun Sho Tsubasa
Hayato Yamato Minato Aoi Asahi Itsuki Hinata Sosuke Masato Satoshi Tetsuya Yoshiro
Ichiro Jiro Taro Kenichi Shinji Koji Noboru Osamu Shigeru Susumu Tadashi Toshio
""",
    female="""
Yui Aoi Hina Yuna Sakura Mei Rin Yuka Ayaka Misaki Haruka Nanami Emi Keiko Yoko Naoko
Tomoko Akiko Kumiko Mayumi Yumiko Sachiko Kazuko Michiko Noriko Hiroko Junko Megumi
Ai Mai Yui Kana Saki Miyu Riko Himari Tsumugi Mio Koharu Ema Akari Hana Kaede Chihiro
""",
    surnames="""
Sato Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida
Yamada Sasaki Yamaguchi Matsumoto Inoue Kimura Hayashi Shimizu Yamazaki Mori Abe Ikeda
Hashimoto Yamashita Ishikawa Nakajima Maeda Fujita Ogawa Goto Okada Hasegawa Murakami
Kondo Ishii Saito Sakamoto Endo Aoki Fujii Nishimura Fukuda Ota Miura Fujiwara Okamoto
Matsuda Nakagawa Nakano Harada Ono Tamura Takeuchi Kaneko Wada Nakayama Ishida Ueda
Morita Hara Shibata Sakai Kudo Yokoyama Miyazaki Miyamoto Uchida Takagi Ando Taniguchi
Ohno Maruyama Imai Takada Fujimoto Takeda Murata Ueno Sugiyama Masuda Sugawara Hirano
Kojima Otsuka Chiba Kubo Matsui Iwasaki Sakurai Kinoshita Noguchi Matsuo Nomura Kikuchi
Sano Onishi Sugimoto Arai
""",
    synth_roots="""
Aka Ao Fuji Hara Hashi Hira Hon Ichi Ishi Iwa Kami Kawa Kita Ko Kuro Matsu Mina Miya
Mori Naka Nishi No Oka Saka Shima Shira Suzu Taka Tani Toku Ue Yama Yoshi
""",
    synth_suffixes="da kawa moto mura no saki shita ta yama zawa hara oka ishi jima gawa uchi",
    synth_share=0.2,
)

NORDIC = CultureData(
    key="nordic", share=0.03,
    languages=(("sv", 0.2), ("no", 0.15), ("da", 0.15), ("fi", 0.05), ("en", 0.45)),
    middle_rate=0.3,
    male="""
Lars Anders Johan Erik Per Karl Nils Jan Mikael Hans Peter Sven Olof Jonas Magnus Mats
Gustav Oskar Axel Emil Lucas Liam William Elias Noah Hugo Isak Filip Viktor Oliver
Henrik Jens Søren Rasmus Mads Frederik Christian Morten Niels Jesper Kasper Mikkel
Ole Bjørn Knut Arne Tor Terje Geir Trond Sigurd Håkon Eirik Ivar Leif Rune Stig Ulf
Björn Gunnar Bengt Göran Kjell Åke Matti Mikko Juha Jukka Timo Pekka Antti Ville Eero
""",
    female="""
Anna Maria Eva Karin Kristina Lena Kerstin Elisabeth Ingrid Birgitta Marie Sara Emma
Elsa Alice Maja Ella Wilma Ebba Astrid Saga Freja Signe Ingeborg Sigrid Solveig Liv
Kari Randi Gunhild Hanne Mette Lone Pia Tove Dorthe Camilla Malene Sofie Ida Nora
Linnea Agnes Alma Klara Stina Åsa Britt Gunilla Margareta Ulla Inger Sanna Aino
Helmi Tuula Päivi Riitta Sari Minna Johanna Hanna Katja Laura
""",
    surnames="""
Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson
Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson
Olofsson Lindström Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lind Lundgren
Lundqvist Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg Wallin
Engström Eklund Danielsson Lundin Håkansson Björk Bergman Gunnarsson Holm Wikström
Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson Löfgren Söderberg
Nyberg Blomqvist Claesson Nordström Mårtensson Lundström Hansen Johansen Olsen Larsen
Andersen Pedersen Nilsen Kristiansen Jensen Karlsen Johnsen Pettersen Eriksen Berg
Haugen Hagen Johannessen Andreassen Jacobsen Dahl Jørgensen Halvorsen Henriksen Lund
Sørensen Jakobsen Moen Gundersen Iversen Strand Solberg Svendsen Eide Knutsen Martinsen
Paulsen Bakken Kristensen Mathisen Lie Nielsen Rasmussen Christensen Poulsen Madsen
Thomsen Christiansen Møller Mortensen Frederiksen Knudsen Østergaard Vestergaard
Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen Koskinen Järvinen
""",
    synth_roots="""
Berg Lind Sjö Ek Dahl Holm Ström Sand Löf Nord Sund Ahl Lund Fors Gran Hag Malm Ny Öst
Väst Ros Stjern Lilje Bröd Kvarn Lönn
""",
    synth_suffixes="berg gren ström qvist lund holm dahl man blom stedt ling borg",
    synth_share=0.2,
)

CULTURES: tuple[CultureData, ...] = (
    ENGLISH, IRISH_SCOTTISH, GERMAN, SPANISH, FRENCH, ITALIAN, POLISH, VIETNAMESE, CHINESE,
    RUSSIAN, ARABIC, INDIAN, NIGERIAN, TURKISH, GREEK, JAPANESE, NORDIC,
)

# Short forms people ask to be called by (preferred names).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy", "Liam"), "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "Richard": ("Rick", "Rich", "Dick"), "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny"), "Michael": ("Mike", "Mick", "Mikey"),
    "Thomas": ("Tom", "Tommy"), "Joseph": ("Joe", "Joey"), "Charles": ("Charlie", "Chuck"),
    "Christopher": ("Chris", "Kit"), "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",),
    "Anthony": ("Tony",), "Andrew": ("Andy", "Drew"), "Edward": ("Ed", "Ted", "Eddie"),
    "Benjamin": ("Ben", "Benny"), "Nicholas": ("Nick",), "Alexander": ("Alex", "Xander"),
    "Jonathan": ("Jon",), "Timothy": ("Tim",), "Gregory": ("Greg",), "Kenneth": ("Ken",),
    "Ronald": ("Ron", "Ronnie"), "Donald": ("Don",), "Lawrence": ("Larry",),
    "Stephen": ("Steve",), "Steven": ("Steve",), "Samuel": ("Sam", "Sammy"),
    "Elizabeth": ("Liz", "Beth", "Betty", "Lizzie", "Eliza"), "Katherine": ("Kate", "Kathy"),
    "Catherine": ("Cathy", "Kate"), "Margaret": ("Maggie", "Peggy", "Meg"),
    "Jennifer": ("Jen", "Jenny"), "Patricia": ("Pat", "Trish", "Patty"), "Susan": ("Sue",),
    "Deborah": ("Deb", "Debbie"), "Rebecca": ("Becky", "Becca"), "Samantha": ("Sam",),
    "Victoria": ("Vicky", "Tori"), "Kimberly": ("Kim",), "Christina": ("Chris", "Tina"),
    "Jacqueline": ("Jackie",), "Abigail": ("Abby",), "Dorothy": ("Dot", "Dottie"),
    "Alexandra": ("Alex", "Sasha"), "Josephine": ("Jo", "Josie"),
    "Александр": ("Саша", "Sasha"), "Дмитрий": ("Дима", "Dima"), "Михаил": ("Миша",),
    "Екатерина": ("Катя", "Katya"), "Мария": ("Маша", "Masha"), "Наталья": ("Наташа",),
    "Francesco": ("Franco", "Cesco"), "Giuseppe": ("Beppe", "Peppe", "Joe"),
    "Francisco": ("Paco", "Pancho", "Frank"), "José": ("Pepe", "Joe"),
    "Guadalupe": ("Lupe",), "Dolores": ("Lola",), "Concepción": ("Concha",),
    "Margarethe": ("Grete",), "Johannes": ("Hannes", "Jo"), "Wolfgang": ("Wolf",),
    "Seán": ("Shaun",), "Pádraig": ("Paddy",), "Patrick": ("Pat", "Paddy"),
    "Oluwaseun": ("Seun",), "Oluwafemi": ("Femi",), "Chukwuemeka": ("Emeka",),
    "Babatunde": ("Tunde",), "Oluwatobi": ("Tobi",), "Abubakar": ("Bakar",),
}

# English names East Asian patients often go by in an English-speaking clinic.
ADOPTED_ENGLISH_MALE = "David Michael Kevin Eric Jason Jimmy Tony Peter Daniel Andrew Steven"
ADOPTED_ENGLISH_FEMALE = "Amy Grace Jenny Linda Helen Cindy Vivian Tiffany Michelle Emily Lily"

# --------------------------------------------------------------------- weighted pools


@dataclass(frozen=True)
class WeightedNames:
    """Names with cumulative weights for fast weighted picks (``bisect`` on a uniform draw)."""

    names: tuple[str, ...]
    weights: tuple[float, ...]
    cumulative: tuple[float, ...] = field(repr=False, default=())

    def __post_init__(self) -> None:
        total = 0.0
        cumulative = []
        for w in self.weights:
            total += w
            cumulative.append(total)
        object.__setattr__(self, "cumulative", tuple(cumulative))

    def __len__(self) -> int:
        return len(self.names)

    @property
    def total(self) -> float:
        return self.cumulative[-1] if self.cumulative else 0.0

    def pick(self, rng: random.Random) -> str:
        return self.names[bisect.bisect_right(self.cumulative, rng.random() * self.total)
                          if len(self.names) > 1 else 0]

    def share(self, name: str) -> float:
        """The probability of ``name`` in one pick (0 if it is not in the pool)."""
        return sum(w for n, w in zip(self.names, self.weights, strict=True) if n == name) / (
            self.total or 1.0)

    def scaled(self, factor: float) -> WeightedNames:
        return WeightedNames(self.names, tuple(w * factor for w in self.weights))

    @staticmethod
    def merge(*pools: WeightedNames) -> WeightedNames:
        """One pool of all names; a name in several pools gets the sum of its weights."""
        merged: dict[str, float] = {}
        for pool in pools:
            for n, w in zip(pool.names, pool.weights, strict=True):
                merged[n] = merged.get(n, 0.0) + w
        return WeightedNames(tuple(merged), tuple(merged.values()))


def _tokens(spec: str) -> list[str]:
    return [t.replace("_", " ") for t in spec.split()]


def zipf_pool(spec: str, *, offset: float, exponent: float) -> WeightedNames:
    """Parse a ranked list. ``name:pct`` fixes a name's share of the total (percent); the
    other names share what is left along a Zipf–Mandelbrot curve over their rank."""
    fixed: dict[str, float] = {}
    ranked: list[str] = []
    for token in _tokens(spec):
        name, _, pct = token.partition(":")
        if name in fixed or name in ranked:
            continue   # a name listed twice keeps its first (higher) rank
        if pct:
            fixed[name] = float(pct) / 100.0
        else:
            ranked.append(name)
    rest = max(0.0, 1.0 - sum(fixed.values()))
    curve = [1.0 / (rank + offset) ** exponent for rank in range(1, len(ranked) + 1)]
    scale = rest / sum(curve) if curve else 0.0
    ordered = list(fixed) + ranked
    weights = list(fixed.values()) + [c * scale for c in curve]
    return WeightedNames(tuple(ordered), tuple(weights))


def synthesised_surnames(culture: CultureData) -> list[str]:
    """Plausible extra surnames: every root with every suffix, in a fixed order.

    ``Mac``/``Mc`` and ``Al-`` style entries in ``synth_suffixes`` are prefixes (they end in
    a letter case or punctuation that marks them); ``none`` means the bare root.
    """
    roots = culture.synth_roots.split()
    affixes = culture.synth_suffixes.split()
    out: list[str] = []
    for affix in affixes:
        for root in roots:
            if affix == "none":
                name = root
            elif affix in ("Mac", "Mc"):
                name = affix + root
            elif affix.endswith(("-", "_")):
                name = affix.replace("_", " ") + root
            else:
                name = root + affix
            out.append(name)
    return out


@dataclass(frozen=True)
class CulturePools:
    culture: CultureData
    male: WeightedNames
    female: WeightedNames
    surnames: WeightedNames


@cache
def culture_pools() -> tuple[CulturePools, ...]:
    """Weighted pools of every culture, built once per process (pure, deterministic)."""
    out: list[CulturePools] = []
    for c in CULTURES:
        real = zipf_pool(c.surnames, offset=c.surname_offset, exponent=c.surname_exponent)
        surnames = real
        if c.synth_share > 0:
            known = set(real.names)
            extra = [n for n in dict.fromkeys(synthesised_surnames(c)) if n not in known]
            if extra:
                # The tail is flat-ish: synthetic names are rare, each about equally.
                synth = zipf_pool(" ".join(n.replace(" ", "_") for n in extra),
                                  offset=len(extra) / 2, exponent=1.0)
                surnames = WeightedNames.merge(real.scaled(1.0 - c.synth_share),
                                               synth.scaled(c.synth_share))
        out.append(CulturePools(
            culture=c,
            male=zipf_pool(c.male, offset=c.given_offset, exponent=c.given_exponent),
            female=zipf_pool(c.female, offset=c.given_offset, exponent=c.given_exponent),
            surnames=surnames,
        ))
    return tuple(out)


def culture_weights() -> WeightedNames:
    """Culture keys weighted by their share of the patients."""
    return WeightedNames(tuple(c.key for c in CULTURES), tuple(c.share for c in CULTURES))
