"""A gazetteer of common given names, for redacting names that no context cue announces.

Common names from many languages (English, Spanish, Portuguese, French, German, Italian, Nordic,
Slavic, Arabic, South and East Asian, West African). Names that are also frequent English words
at a sentence start ("Will", "May", "Hope", "Faith", "Bill") are left out: a context cue such as
"my name is" still finds them, and leaving them here would redact ordinary words.
"""

from __future__ import annotations

_NAMES = """
Aaron Abdul Abigail Adam Adrian Ahmed Aiko Aisha Alan Albert Alberto Alejandro Alex Alexander
Alexandra Alfie Ali Alice Alicia Alina Alison Amanda Amara Amber Amelia Amina Amir Amit Amy Ana
Anastasia Andrea Andreas Andrew Andrzej Angela Anita Anjali Ann Anna Anne Annika Anthony Antoine
Antonio Anya Arjun Arthur Ashley Astrid Aurora Ava Axel Ayesha Barbara Beatriz Ben Benjamin Bernard
Beth Betty Bianca Bob Brandon Brenda Brian Bruno Camila Camille Carl Carla Carlos Carmen Carol
Caroline Catherine Cecilia Charles Charlotte Chen Chinedu Chloe Chris Christian Christina Christine
Christopher Claire Clara Claude Colin Connor Craig Cristina Cynthia Daniel Daniela Danielle David
Debbie Deborah Deepa Denise Dennis Diana Diego Dmitri Dominic Donald Donna Dorothy Douglas Duc Dylan
Edward Elena Eleanor Elias Elif Elijah Elisa Elizabeth Ella Ellie Emily Emil Emma Enrique Eric Erik
Erin Esther Ethan Eva Evelyn Fabian Fatima Felix Fernando Fiona Florian Francesca Francesco Francisco
Frank Freya Gabriel Gabriela Gary George Georgia Gerald Giulia Giuseppe Gloria Grace Greg Gregory
Guillaume Gustavo Hamza Hana Hannah Harry Hassan Heather Heidi Helen Helena Henrik Henry Hiroshi Holly
Hugo Ibrahim Ida Igor Ines Ingrid Irene Isaac Isabel Isabella Ivan Jack Jacob Jacqueline Jakob James
Jamie Jan Jane Janet Jasmine Jason Javier Jean Jeffrey Jennifer Jenny Jeremy Jessica Jin Joan Joanna
Joel Johan Johannes John Jonas Jonathan Jordan Jorge Jose Josef Joseph Joshua Joyce Juan Judith Julia
Julian Julie Jun Justin Karen Karim Karl Katarzyna Kate Katherine Kathleen Katie Kayla Keith Kelly
Kenji Kenneth Kevin Khalid Kim Kimberly Klaus Kofi Kwame Kyle Lara Larry Laura Lauren Laurent Layla
Lea Leila Lena Leo Leon Leonardo Li Liam Lily Linda Lisa Liu Lorenzo Louis Louise Lucas Lucia Luis
Luisa Lukas Luke Lydia Magdalena Maja Manuel Marc Marco Marcus Margaret Maria Mariana Marie Marina
Mario Marion Mark Marta Martin Mary Mateo Mathias Matteo Matthew Maurice Max Maya Megan Mehmet Mei
Melissa Mia Michael Michelle Miguel Mikael Mila Mohamed Mohammed Monica Nadia Nancy Naomi Natalia
Natalie Nathan Neil Nicholas Nicola Nicole Nikolai Nina Noah Noor Nora Oliver Olivia Olga Omar Oscar
Ousmane Pablo Pamela Patricia Patrick Paul Paula Pedro Peter Philip Pierre Piotr Priya Rachel Rafael
Rahul Raj Ralph Ramon Raphael Raymond Rebecca Richard Rita Robert Roberto Robin Rohan Roman Ronald Rosa
Rose Ruby Ruth Ryan Sabrina Samantha Samuel Sandra Sara Sarah Scott Sean Sebastian Sergei Sergio
Shannon Sharon Shirley Simon Sofia Sophia Sophie Stefan Stephanie Stephen Steven Susan Sven Tanya
Tariq Teresa Thomas Tiffany Timothy Tobias Tom Tomas Tyler Valentina Vanessa Victor Victoria Vikram
Vincent Virginia Walter Wei Wendy William Xavier Yasmin Yuki Yusuf Zachary Zara Zoe Ama Ananya Sam
Lucy Jessie Hans Greta Mateus Joao Thiago Sakura Haruto Minh Linh Priyanka Sanjay Sunita Fatou Aminata
Chidi Ngozi Tunde Yaw Efua Abena Dariusz Agnieszka Tatiana Anastasios Eleni Yiannis Mustafa Ayse
"""

FIRST_NAMES: frozenset[str] = frozenset(_NAMES.split())
