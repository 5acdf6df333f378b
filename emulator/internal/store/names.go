package store

// Name pools for the seeds: varied, realistic, and fixed so seeded tenants are reproducible.

var firstNames = []string{
	"Aaliyah", "Aarav", "Abigail", "Adebayo", "Adriana", "Ahmed", "Aiko", "Aisha", "Alejandro", "Alexei",
	"Alice", "Amara", "Amelia", "Ana", "Anders", "Andrea", "Ania", "Anil", "Anna", "Antoine",
	"Arjun", "Astrid", "Ayumi", "Beatriz", "Benjamin", "Bianca", "Bilal", "Bjorn", "Bongani", "Brandon",
	"Camila", "Carlos", "Carmen", "Catherine", "Chen", "Chiara", "Chidi", "Chloe", "Christopher", "Claire",
	"Daniel", "Daniela", "David", "Deepika", "Diego", "Dmitri", "Elena", "Elif", "Elijah", "Emeka",
	"Emily", "Emma", "Erik", "Esther", "Ethan", "Fatima", "Felix", "Fernanda", "Finn", "Francesca",
	"Gabriel", "Giulia", "Grace", "Hana", "Hannah", "Hassan", "Helena", "Hiroshi", "Hugo", "Ibrahim",
	"Imani", "Ines", "Ingrid", "Isabella", "Ivan", "Jack", "Jamal", "James", "Javier", "Jennifer",
	"Ji-woo", "Joao", "Johanna", "Jonas", "Jose", "Julia", "Kai", "Kamala", "Karim", "Katarzyna",
	"Kenji", "Kwame", "Laila", "Lars", "Laura", "Leila", "Liam", "Lina", "Lucas", "Lucia",
	"Magnus", "Mai", "Malik", "Marco", "Maria", "Mariam", "Mateo", "Maya", "Mei", "Michael",
	"Miguel", "Mohammed", "Nadia", "Naomi", "Nathan", "Nia", "Nikolai", "Noah", "Nora", "Olga",
	"Oliver", "Olivia", "Omar", "Oscar", "Pablo", "Patrick", "Priya", "Rafael", "Rahul", "Rania",
	"Rebecca", "Ricardo", "Rohan", "Rosa", "Ruth", "Sakura", "Samuel", "Sandra", "Santiago", "Sara",
	"Sebastian", "Sergei", "Shreya", "Siddharth", "Sipho", "Sofia", "Sophie", "Soren", "Stefan", "Sunil",
	"Takeshi", "Tamara", "Thabo", "Thomas", "Tomasz", "Valentina", "Vikram", "Wei", "William", "Xin",
	"Yara", "Yasmin", "Yuki", "Yusuf", "Zainab", "Zara", "Zhang", "Zoe",
}

var lastNames = []string{
	"Abara", "Adeyemi", "Aguilar", "Ahmed", "Al-Farsi", "Alvarez", "Andersen", "Anderson", "Bakker", "Banerjee",
	"Becker", "Bennett", "Bianchi", "Brown", "Campbell", "Castillo", "Chen", "Chowdhury", "Clarke", "Costa",
	"Cruz", "Dang", "Davies", "Diaz", "Dubois", "Dvorak", "Edwards", "Eriksson", "Evans", "Fernandes",
	"Fischer", "Fontaine", "Garcia", "Gonzalez", "Gupta", "Haddad", "Hansen", "Hashemi", "Hernandez", "Hoffmann",
	"Hughes", "Ibrahim", "Ito", "Ivanova", "Jackson", "Jansen", "Jensen", "Johansson", "Johnson", "Kaur",
	"Keller", "Khan", "Kim", "Kowalski", "Kumar", "Larsen", "Laurent", "Lee", "Lehmann", "Li",
	"Lindqvist", "Liu", "Lopez", "Mahlangu", "Martin", "Martinez", "Mehta", "Mendes", "Meyer", "Morales",
	"Moreau", "Muller", "Murphy", "Nakamura", "Nascimento", "Nguyen", "Nielsen", "Novak", "Nowak", "Obi",
	"Okafor", "Okonkwo", "Olsen", "Ortiz", "Osei", "Park", "Patel", "Pereira", "Perez", "Petrov",
	"Phillips", "Popescu", "Quinn", "Rahman", "Ramirez", "Rao", "Reddy", "Reyes", "Richter", "Rivera",
	"Roberts", "Rodriguez", "Romano", "Rossi", "Russo", "Saito", "Sanchez", "Santos", "Sato", "Schmidt",
	"Schneider", "Sharma", "Silva", "Singh", "Smith", "Sokolov", "Suzuki", "Svensson", "Takahashi", "Tanaka",
	"Taylor", "Thompson", "Torres", "Tran", "Turner", "Van der Berg", "Varga", "Vasquez", "Vogel", "Wagner",
	"Walker", "Wang", "Watanabe", "Weber", "White", "Williams", "Wilson", "Wojcik", "Wong", "Wright",
	"Wu", "Yamamoto", "Yang", "Yilmaz", "Young", "Zhang", "Zhao", "Zimmermann",
}

var departments = []string{
	"Sales", "Marketing", "Finance", "Human Resources", "Engineering", "Operations", "Legal",
	"Customer Support", "IT", "Procurement", "Research", "Facilities",
}

var titles = []string{
	"Account Manager", "Analyst", "Consultant", "Director", "Engineer", "Manager", "Specialist",
	"Coordinator", "Senior Engineer", "Team Lead", "Administrator", "Associate",
}

var offices = []struct{ City, Country, Location string }{
	{"Seattle", "United States", "US"}, {"New York", "United States", "US"}, {"Chicago", "United States", "US"},
	{"London", "United Kingdom", "GB"}, {"Dublin", "Ireland", "IE"}, {"Amsterdam", "Netherlands", "NL"},
	{"Berlin", "Germany", "DE"}, {"Paris", "France", "FR"}, {"Madrid", "Spain", "ES"},
	{"Stockholm", "Sweden", "SE"}, {"Warsaw", "Poland", "PL"}, {"Bangalore", "India", "IN"},
	{"Singapore", "Singapore", "SG"}, {"Tokyo", "Japan", "JP"}, {"Sydney", "Australia", "AU"},
	{"Sao Paulo", "Brazil", "BR"}, {"Johannesburg", "South Africa", "ZA"}, {"Toronto", "Canada", "CA"},
}

var sharedMailboxNames = []string{
	"Sales", "Support", "Info", "Finance Team", "HR Inbox", "Marketing", "Reception", "Accounts Payable",
	"Accounts Receivable", "IT Helpdesk", "Legal Requests", "Press Office", "Careers", "Invoices",
	"Customer Success", "Partners", "Security Reports", "Facilities Requests", "Events", "Procurement",
}

var equipmentNames = []string{
	"Projector", "Pool Car", "Laptop Cart", "Video Kit", "Camera", "Conference Phone", "Van", "Bike",
}

var externalDomains = []string{
	"fabrikam.com", "northwindtraders.com", "adventure-works.com", "tailspintoys.com", "wingtiptoys.com",
	"litwareinc.com", "proseware.com", "woodgrovebank.com",
}

var groupNames = []string{
	"All Staff", "Sales Team", "Marketing Team", "Finance Team", "Engineering", "Leadership",
	"Seattle Office", "London Office", "Project Phoenix", "Social Committee", "IT Admins", "Board",
}
